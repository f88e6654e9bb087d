// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-image: placeholder until the loaders land.
#include "px-image.h"
