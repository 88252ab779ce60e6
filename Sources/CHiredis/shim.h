#ifndef HIKYAKU_CHIREDIS_SHIM_H
#define HIKYAKU_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif
