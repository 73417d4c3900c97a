/* SPDX-License-Identifier: MIT */
/* NVMe status names (NVMe base 2.0, fabrics, NVM and Key Value command sets) for messages. */
#include <stddef.h>

#include "nvring/nvring.h"

struct status_name {
	uint16_t code; /* (SCT << 8) | SC */
	const char *name;
};

static const struct status_name status_generic[] = {
	{ 0x000, "Successful Completion" },
	{ 0x001, "Invalid Command Opcode" },
	{ 0x002, "Invalid Field in Command" },
	{ 0x003, "Command ID Conflict" },
	{ 0x004, "Data Transfer Error" },
	{ 0x005, "Commands Aborted due to Power Loss Notification" },
	{ 0x006, "Internal Error" },
	{ 0x007, "Command Abort Requested" },
	{ 0x008, "Command Aborted due to SQ Deletion" },
	{ 0x009, "Command Aborted due to Failed Fused Command" },
	{ 0x00a, "Command Aborted due to Missing Fused Command" },
	{ 0x00b, "Invalid Namespace or Format" },
	{ 0x00c, "Command Sequence Error" },
	{ 0x00d, "Invalid SGL Segment Descriptor" },
	{ 0x00e, "Invalid Number of SGL Descriptors" },
	{ 0x00f, "Data SGL Length Invalid" },
	{ 0x010, "Metadata SGL Length Invalid" },
	{ 0x011, "SGL Descriptor Type Invalid" },
	{ 0x012, "Invalid Use of Controller Memory Buffer" },
	{ 0x013, "PRP Offset Invalid" },
	{ 0x014, "Atomic Write Unit Exceeded" },
	{ 0x015, "Operation Denied" },
	{ 0x016, "SGL Offset Invalid" },
	{ 0x018, "Host Identifier Inconsistent Format" },
	{ 0x019, "Keep Alive Timer Expired" },
	{ 0x01a, "Keep Alive Timeout Invalid" },
	{ 0x01b, "Command Aborted due to Preempt and Abort" },
	{ 0x01c, "Sanitize Failed" },
	{ 0x01d, "Sanitize In Progress" },
	{ 0x01e, "SGL Data Block Granularity Invalid" },
	{ 0x01f, "Command Not Supported for Queue in CMB" },
	{ 0x020, "Namespace is Write Protected" },
	{ 0x021, "Command Interrupted" },
	{ 0x022, "Transient Transport Error" },
	{ 0x023, "Command Prohibited by Command and Feature Lockdown" },
	{ 0x024, "Admin Command Media Not Ready" },
};

/* SCT 0, SC 0x80-0xBF: meaning depends on the I/O command set */
static const struct status_name status_nvm[] = {
	{ 0x080, "LBA Out of Range" },
	{ 0x081, "Capacity Exceeded" },
	{ 0x082, "Namespace Not Ready" },
	{ 0x083, "Reservation Conflict" },
	{ 0x084, "Format In Progress" },
};

static const struct status_name status_kv[] = {
	{ 0x081, "KV Capacity Exceeded" },
	{ 0x082, "KV Namespace Not Ready" },
	{ 0x083, "Reservation Conflict" },
	{ 0x084, "Format In Progress" },
	{ 0x085, "KV Invalid Value Size" },
	{ 0x086, "KV Invalid Key Size" },
	{ 0x087, "KV Key Does Not Exist" },
	{ 0x088, "KV Unrecovered Error" },
	{ 0x089, "KV Key Exists" },
};

static const struct status_name status_specific[] = {
	{ 0x100, "Completion Queue Invalid" },
	{ 0x101, "Invalid Queue Identifier" },
	{ 0x102, "Invalid Queue Size" },
	{ 0x103, "Abort Command Limit Exceeded" },
	{ 0x105, "Asynchronous Event Request Limit Exceeded" },
	{ 0x106, "Invalid Firmware Slot" },
	{ 0x107, "Invalid Firmware Image" },
	{ 0x108, "Invalid Interrupt Vector" },
	{ 0x109, "Invalid Log Page" },
	{ 0x10a, "Invalid Format" },
	{ 0x10b, "Firmware Activation Requires Conventional Reset" },
	{ 0x10c, "Invalid Queue Deletion" },
	{ 0x10d, "Feature Identifier Not Saveable" },
	{ 0x10e, "Feature Not Changeable" },
	{ 0x10f, "Feature Not Namespace Specific" },
	{ 0x110, "Firmware Activation Requires NVM Subsystem Reset" },
	{ 0x111, "Firmware Activation Requires Controller Level Reset" },
	{ 0x112, "Firmware Activation Requires Maximum Time Violation" },
	{ 0x113, "Firmware Activation Prohibited" },
	{ 0x114, "Overlapping Range" },
	{ 0x115, "Namespace Insufficient Capacity" },
	{ 0x116, "Namespace Identifier Unavailable" },
	{ 0x118, "Namespace Already Attached" },
	{ 0x119, "Namespace Is Private" },
	{ 0x11a, "Namespace Not Attached" },
	{ 0x11b, "Thin Provisioning Not Supported" },
	{ 0x11c, "Controller List Invalid" },
	{ 0x11d, "Device Self-test In Progress" },
	{ 0x11e, "Boot Partition Write Prohibited" },
	{ 0x11f, "Invalid Controller Identifier" },
	{ 0x120, "Invalid Secondary Controller State" },
	{ 0x121, "Invalid Number of Controller Resources" },
	{ 0x122, "Invalid Resource Identifier" },
	{ 0x123, "Sanitize Prohibited While Persistent Memory Region is Enabled" },
	{ 0x124, "ANA Group Identifier Invalid" },
	{ 0x125, "ANA Attach Failed" },
	{ 0x129, "I/O Command Set Not Supported" },
	{ 0x12a, "I/O Command Set Not Enabled" },
	{ 0x12b, "I/O Command Set Combination Rejected" },
	{ 0x12c, "Invalid I/O Command Set" },
	{ 0x12d, "Identifier Unavailable" },
};

/* SCT 1, SC 0x80-0xBF: fabrics commands (Connect, Authentication) ... */
static const struct status_name status_fabrics[] = {
	{ 0x180, "Incompatible Format" },
	{ 0x181, "Controller Busy" },
	{ 0x182, "Connect Invalid Parameters" },
	{ 0x183, "Connect Restart Discovery" },
	{ 0x184, "Connect Invalid Host" },
	{ 0x190, "Discovery Restart" },
	{ 0x191, "Authentication Required" },
};

/* ... and I/O commands of the NVM command set */
static const struct status_name status_nvm_specific[] = {
	{ 0x180, "Conflicting Attributes" },
	{ 0x181, "Invalid Protection Information" },
	{ 0x182, "Attempted Write to Read Only Range" },
	{ 0x183, "Command Size Limit Exceeded" },
};

static const struct status_name status_media[] = {
	{ 0x280, "Write Fault" },
	{ 0x281, "Unrecovered Read Error" },
	{ 0x282, "End-to-end Guard Check Error" },
	{ 0x283, "End-to-end Application Tag Check Error" },
	{ 0x284, "End-to-end Reference Tag Check Error" },
	{ 0x285, "Compare Failure" },
	{ 0x286, "Access Denied" },
	{ 0x287, "Deallocated or Unwritten Logical Block" },
	{ 0x288, "End-to-End Storage Tag Check Error" },
	{ 0x300, "Internal Path Error" },
	{ 0x301, "Asymmetric Access Persistent Loss" },
	{ 0x302, "Asymmetric Access Inaccessible" },
	{ 0x303, "Asymmetric Access Transition" },
	{ 0x360, "Controller Pathing Error" },
	{ 0x370, "Host Pathing Error" },
	{ 0x371, "Command Aborted By Host" },
};

#define STATUS_FIND(tbl, c)                                                  \
	do {                                                                 \
		for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++)    \
			if (tbl[i].code == (c))                              \
				return tbl[i].name;                          \
	} while (0)

const char *nvr_status_str(uint16_t status, int csi)
{
	uint16_t code = status & 0x7ff;

	if (code >= 0x080 && code <= 0x0bf) {
		if (csi == 1)
			STATUS_FIND(status_kv, code);
		else
			STATUS_FIND(status_nvm, code);
		return "Unknown";
	}
	if (code >= 0x180 && code <= 0x1bf) {
		if (csi == NVR_STATUS_FABRICS)
			STATUS_FIND(status_fabrics, code);
		else
			STATUS_FIND(status_nvm_specific, code);
		return "Unknown";
	}
	STATUS_FIND(status_generic, code);
	STATUS_FIND(status_specific, code);
	STATUS_FIND(status_media, code);
	if ((code >> 8) == 7)
		return "Vendor Specific";
	return "Unknown";
}
