#include "ids.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define ID_MAX 76

static int
is_sep(char c)
{
	return c == '.' || c == '_' || c == '-';
}

int
id_validate(const char *id, const char *what, struct mini_err **err)
{
	size_t len, i;

	if (id == NULL || *id == '\0')
		return mini_err_setc(err, MINI_E_INVALID, EINVAL, "%s must not be empty", what);
	len = strlen(id);
	if (len > ID_MAX)
		return mini_err_setc(err, MINI_E_INVALID, EINVAL,
				     "%s %.20s...: longer than %d characters", what, id, ID_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (isalnum(c) && c < 0x80)
			continue;
		if (is_sep((char)c) && i > 0 && i + 1 < len && !is_sep(id[i - 1]))
			continue;
		return mini_err_setc(err, MINI_E_INVALID, EINVAL,
				     "%s \"%s\": invalid character at offset %zu (want [A-Za-z0-9] "
				     "groups joined by single '.', '_' or '-')",
				     what, id, i);
	}
	return 0;
}
