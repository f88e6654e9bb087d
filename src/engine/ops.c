// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops: placeholder translation unit; the inference work fills in ops.h.
#include "ops.h"
