savedcmd_/work/main/Module.symvers :=  scripts/mod/modpost -M   -E    -W -o /work/main/Module.symvers -T /work/main/modules.order -i Module.symvers -e 
