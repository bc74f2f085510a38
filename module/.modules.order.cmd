savedcmd_/work/main/module/modules.order := {   echo /work/main/module/chimney.o; :; } > /work/main/module/modules.order
