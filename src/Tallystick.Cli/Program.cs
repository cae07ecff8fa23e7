using Tallystick.Cli;

return TallyCommands.Root().Parse(args).Invoke();
