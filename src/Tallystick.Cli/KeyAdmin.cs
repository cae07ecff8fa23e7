using Tallystick.Server.Storage;
using Tallystick.Server.Tenants;

namespace Tallystick.Cli;

/// <summary>Runs a key administration action against the data directory's database.</summary>
internal static class KeyAdmin
{
    public static int Run(string? dataFlag, Func<TenantDirectory, int> action)
    {
        try
        {
            var options = TallyCommands.LoadOptions(null);
            return action(new TenantDirectory(new Database(dataFlag ?? options.DataDirectory), TimeProvider.System));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"tally: {e.Message}");
            return TallyCommands.ExitUsage;
        }
    }
}
