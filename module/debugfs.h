/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CHIMNEY_DEBUGFS_H
#define _CHIMNEY_DEBUGFS_H

#include <linux/types.h>

struct chimney_device;

int chimney_debugfs_init(void);
void chimney_debugfs_exit(void);
void chimney_debugfs_device_add(struct chimney_device *cdev);
void chimney_debugfs_device_remove(struct chimney_device *cdev);
void chimney_debugfs_device_rename(struct chimney_device *cdev);

/* The command file's parser and executor (cmd.c). */
#define CHIMNEY_CMD_MAX	256
int chimney_cmd_exec(const char *buf, size_t len);
int chimney_cmd_exec_id(const char *buf, size_t len, u64 *id);
u64 chimney_cmd_last_id(void);

/* One open of the command file: the last id offloaded through it. */
struct chimney_cmd_file {
	u64 last_id;
};

ssize_t chimney_cmd_file_write(struct chimney_cmd_file *cf, const char *buf,
			       size_t len, loff_t *ppos);
size_t chimney_cmd_file_show(struct chimney_cmd_file *cf, char *buf,
			     size_t size);

#endif
