import ZooCommands

Zoo.main()
