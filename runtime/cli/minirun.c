#include "minirun_main.h"

int
main(int argc, char **argv)
{
	return minirun_main(argc, argv);
}
