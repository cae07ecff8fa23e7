using System.CommandLine;
using Tallystick.Server.Storage;
using Tallystick.Server.Verification;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally tenants set --tenant NAME --verify-reveal records|summary [--data DIR]</c>: per-tenant settings. Works
/// while the server runs (it writes the same database; the server reads the setting on every verify request).
/// </summary>
internal static class TenantCommands
{
    public static Command Create()
    {
        var tenants = new Command("tenants", "Manage per-tenant settings.");
        tenants.Subcommands.Add(Set());
        return tenants;
    }

    private static Command Set()
    {
        var tenant = new Option<string>("--tenant") { Description = "An existing tenant's name.", Required = true };
        var reveal = new Option<string>("--verify-reveal")
        {
            Description = "What holders of the tenant's proof roots see on /api/v1/verify: records (default) or summary.",
            Required = true,
        };
        reveal.AcceptOnlyFromAmong("records", "summary");
        var data = new Option<string?>("--data") { Description = "Data directory (default: $TALLY_DATA_DIR or ./data)." };
        var command = new Command("set", "Change a tenant's settings (takes effect at once on a running server).")
        {
            tenant, reveal, data,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(tenant)!;
            var value = RevealSetting.Parse(parse.GetValue(reveal)!)
                ?? throw new InvalidOperationException("--verify-reveal accepts only records or summary");
            bool found;
            try
            {
                var directory = parse.GetValue(data) ?? TallyCommands.LoadOptions(null).DataDirectory;
                found = RevealSetting.Set(new Database(directory), name, value);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"tally: {e.Message}");
                return TallyCommands.ExitUsage;
            }
            if (!found)
            {
                Console.Error.WriteLine($"tally: no tenant '{name}' (tenants are created with `tally keys create`)");
                return TallyCommands.ExitFailed;
            }
            Console.WriteLine($"tenant {name}: verify-reveal {RevealSetting.Name(value)}");
            return TallyCommands.ExitOk;
        });
        return command;
    }
}
