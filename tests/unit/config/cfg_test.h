/* SPDX-License-Identifier: MIT */
/* Helpers shared by the configuration's unit tests. */
#ifndef NVRING_TESTS_CFG_TEST_H
#define NVRING_TESTS_CFG_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "nvringd/config/config.h"

static inline bool check_str(const char *got, const char *want, const char *name)
{
	bool ok = got && !strcmp(got, want);

	if (!ok)
		printf("# %s\n#   got:  '%s'\n#   want: '%s'\n", name, got ? got : "(null)", want);
	return tap_ok(ok, "%s", name);
}

/* parse_args on a NULL-terminated list (argv[0] added). */
static inline int parse(struct nvr_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[64] = { "nvringd" };
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return nvr_config_parse_args(cfg, argc, argv, err, errlen);
}

/* Load JSON text into a fresh, initialised config. */
static inline int load_str(struct nvr_config *cfg, const char *json, char *err, size_t errlen)
{
	err[0] = '\0';
	if (nvr_config_init(cfg))
		return -1;
	if (nvr_config_load_json_string(cfg, json, "t.json", err, errlen)) {
		nvr_config_free(cfg);
		return -1;
	}
	return 0;
}

static char tmp_dir[64];
static char tmp_files[32][128];
static int nr_tmp_files;

/* A file with this content in the test's temporary directory; the path stays valid. */
static inline const char *write_tmp(const char *name, const char *content)
{
	char *path;
	FILE *f;

	if (!tmp_dir[0]) {
		strcpy(tmp_dir, "/tmp/nvring-cfgtest.XXXXXX");
		if (!mkdtemp(tmp_dir))
			return NULL;
	}
	if (nr_tmp_files == 32)
		return NULL;
	path = tmp_files[nr_tmp_files++];
	snprintf(path, 128, "%s/%s", tmp_dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(content, f);
	fclose(f);
	return path;
}

/* Remove what write_tmp made (and files a test named into tmp_files). */
static inline void cleanup_tmp(void)
{
	for (int i = 0; i < nr_tmp_files; i++)
		unlink(tmp_files[i]);
	if (tmp_dir[0])
		rmdir(tmp_dir);
}

#endif
