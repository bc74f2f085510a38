#include <linux/module.h>
#include <linux/export-internal.h>
#include <linux/compiler.h>

MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

KSYMTAB_FUNC(chimney_conn_key_init, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_conn_lookup, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_conn_lookup_id, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_conn_get_id, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_table_count, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_conn_put, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_layer_register, "_gpl", "");
KSYMTAB_FUNC(chimney_layer_unregister, "_gpl", "");
KSYMTAB_FUNC(chimney_offload_initiate, "_gpl", "");
KSYMTAB_FUNC(chimney_offload_forward_initiate, "_gpl", "");
KSYMTAB_FUNC(chimney_initiate_offload_complete, "_gpl", "");
KSYMTAB_FUNC(chimney_conn_terminate, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_offload_terminate, "_gpl", "");
KSYMTAB_FUNC(chimney_offload_forward_terminate, "_gpl", "");
KSYMTAB_FUNC(chimney_terminate_offload_complete, "_gpl", "");
KSYMTAB_FUNC(chimney_indicate_status, "_gpl", "");
KSYMTAB_FUNC(chimney_handle_conn_id, "_gpl", "");
KSYMTAB_FUNC(chimney_flush, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_indicate_event, "_gpl", "");
KSYMTAB_DATA(chimney_global_stats, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_rule_name, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_event_name, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_reason_name, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_reason_parse, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_event_parse, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_raise, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_hw_failure, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_set_path, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_invalidate, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_traffic, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_conn_backlog, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_set_knobs, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_get_knobs, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_create, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_quiesce, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_target_destroy, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_offload, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_set_policy, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_accepts, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_flush, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_create, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_host_destroy, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_DATA(chimney_devices_lock, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_DATA(chimney_devices, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_device_find, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_device_find_name, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_device_attach, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_device_upload_all, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_device_detach, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_notify_match, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_notify_set_patterns, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_notify_rescan, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_inetaddr_event, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_inet6addr_event, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_notify_flush, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_cmd_last_id, "", "EXPORTED_FOR_KUNIT_TESTING");
KSYMTAB_FUNC(chimney_cmd_exec, "", "EXPORTED_FOR_KUNIT_TESTING");

MODULE_INFO(depends, "");


MODULE_INFO(srcversion, "FBC1DD5809907CFA1E3802F");
