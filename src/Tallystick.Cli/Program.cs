using Tallystick.Cli;

var parse = TallyCommands.Root().Parse(args);
if (parse.Errors.Count > 0)
{
    // Invalid usage exits 2 (README), not System.CommandLine's default 1, so scripts can tell it from a failure.
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"tally: {error.Message}");
    }
    Console.Error.WriteLine("Run 'tally --help' for usage.");
    return TallyCommands.ExitUsage;
}
return await parse.InvokeAsync();
