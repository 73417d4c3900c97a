/* SPDX-License-Identifier: MIT */
/* Logging to stderr; level set by -v. */
#ifndef NVRING_TARGET_LOG_H
#define NVRING_TARGET_LOG_H

extern int nvr_verbose;

void nvr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) nvr_log(0, __VA_ARGS__)
#define log_info(...) nvr_log(1, __VA_ARGS__)
#define log_debug(...) nvr_log(2, __VA_ARGS__)

#endif
