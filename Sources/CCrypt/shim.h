#ifndef HIKYAKU_CCRYPT_SHIM_H
#define HIKYAKU_CCRYPT_SHIM_H
#include <crypt.h>
#endif
