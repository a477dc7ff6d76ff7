-- A compare-and-set of a JSON value (a case) on its revision.
--#include compare_and_set
return 1
