#include "tap.h"
#include "log.h"

#include <string.h>

int
main(void)
{
	char buf[512];
	struct mini_log_field f[] = { { "runtime", "io.containerd.mini.v2" },
				      { "namespace", "default" },
				      { "id", "a b" } };
	long long t = 1795368601123456789LL; /* 2026-11-22T17:30:01.123456789Z */

	mini_log_format_text(buf, sizeof(buf), t, MINI_LOG_INFO, "starting signal loop", f, 3);
	is_str(buf,
	       "time=\"2026-11-22T17:30:01.123456789Z\" level=info msg=\"starting signal loop\" "
	       "id=\"a b\" namespace=default runtime=io.containerd.mini.v2\n",
	       "logrus text: quoted msg, sorted fields, quoting only when needed");
	mini_log_format_text(buf, sizeof(buf), t, MINI_LOG_WARN, "tab\there \"q\"\n", NULL, 0);
	is_str(buf,
	       "time=\"2026-11-22T17:30:01.123456789Z\" level=warning msg=\"tab\\there "
	       "\\\"q\\\"\\n\"\n",
	       "logrus text escapes like Go %%q");
	mini_log_format_text(buf, sizeof(buf), t, MINI_LOG_INFO,
			     "c\x01"
			     "d\x7f",
			     NULL, 0);
	is_str(buf, "time=\"2026-11-22T17:30:01.123456789Z\" level=info msg=\"c\\x01d\\x7f\"\n",
	       "logrus text escapes other controls and DEL as \\xNN");
	mini_log_format_json(buf, sizeof(buf), t, MINI_LOG_ERROR, "bad \"x\"\x01", NULL, 0);
	is_str(buf,
	       "{\"level\":\"error\",\"msg\":\"bad "
	       "\\\"x\\\"\\u0001\",\"time\":\"2026-11-22T17:30:01.123456789Z\"}\n",
	       "json escapes");
	ok(mini_log_needs_quoting("") && !mini_log_needs_quoting("a-b.c/d@e^f+g_h") &&
		   mini_log_needs_quoting("a=b"),
	   "quoting rule");
	{
		char small[64];
		char longmsg[200];
		size_t n;

		memset(longmsg, 'x', sizeof(longmsg) - 1);
		longmsg[sizeof(longmsg) - 1] = '\0';
		n = mini_log_format_text(small, sizeof(small), t, MINI_LOG_INFO, longmsg, NULL, 0);
		ok(n < sizeof(small) && small[n - 1] == '\n' && strstr(small, "\xe2\x80\xa6\n"),
		   "long line truncated with an ellipsis and newline (%zu bytes)", n);
	}
	return tap_done();
}
