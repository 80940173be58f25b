import ZooCommands

Zoo.runMain()
