/* SPDX-License-Identifier: MIT */
/* The fake target as a process for shell tests: prints its port, serves until stdin closes. */
#include <stdio.h>
#include <unistd.h>

#include "fake_target.h"

int main(void)
{
	struct ft_opts o = { .mode = FT_GOOD, .c2h_success = true };
	struct ft *ft = ft_start(&o);
	char b[64];

	printf("%s\n", ft_port(ft));
	fflush(stdout);
	while (read(STDIN_FILENO, b, sizeof(b)) > 0)
		;
	ft_stop(ft);
	return 0;
}
