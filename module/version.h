/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_VERSION_H
#define _CHIMNEY_VERSION_H

/* The one source of truth; dkms.conf and the README read it from here. */
#define CHIMNEY_VERSION "0.1.0"

#endif
