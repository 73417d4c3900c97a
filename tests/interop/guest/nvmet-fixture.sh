# Guest side of nvmet-fixture.sh: a Linux nvmet-tcp target on 0.0.0.0:4420,
# then wait while the host runs its command against the forwarded port.
# Prints no TAP of its own: the host command's TAP is the result.
. /run/nvme.sh
if nvmet_target "$NVMET_NQN" "$NVMET_SIZE_MB" 4420 >/tmp/setup.log 2>&1; then
	diag "nvmet target $NVMET_NQN ready after $(elapsed) s"
	host_sync run "$NVMET_WAIT"
	diag "host command finished with status $?"
else
	diag "nvmet target setup failed:"
	sed 's/^/#   /' /tmp/setup.log >&3
	false
fi
