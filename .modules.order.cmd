savedcmd_/work/main/modules.order := {   cat /work/main/module/modules.order;   cat /work/main/kunit/modules.order; :; } > /work/main/modules.order
