using System.CommandLine;
using Tallystick.Server.Reconciliation;
using Tallystick.Server.Storage;
using Tallystick.Server.Verification;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally tenants set --tenant NAME [--verify-reveal records|summary] [--compare-tolerance-absolute X]
/// [--compare-tolerance-relative Y | --clear-compare-tolerance] [--data DIR]</c>: per-tenant settings. Works while the
/// server runs (it writes the same database; the server reads the settings on every verify or compare request).
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
        var reveal = new Option<string?>("--verify-reveal")
        {
            Description = "What holders of the tenant's proof roots see on /api/v1/verify: records (default) or summary.",
        };
        reveal.AcceptOnlyFromAmong("records", "summary");
        var absolute = new Option<string?>("--compare-tolerance-absolute")
        {
            Description = "Default compare tolerance: largest absolute balance difference that settles (e.g. 0.01).",
        };
        var relative = new Option<string?>("--compare-tolerance-relative")
        {
            Description = "Default compare tolerance: largest difference relative to the verified balance (e.g. 0.001).",
        };
        var clearTolerance = new Option<bool>("--clear-compare-tolerance") { Description = "Remove the default tolerance." };
        var data = new Option<string?>("--data") { Description = "Data directory (default: $TALLY_DATA_DIR or ./data)." };
        var command = new Command("set", "Change a tenant's settings (takes effect at once on a running server).")
        {
            tenant, reveal, absolute, relative, clearTolerance, data,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(tenant)!;
            var revealText = parse.GetValue(reveal);
            var absoluteText = parse.GetValue(absolute);
            var relativeText = parse.GetValue(relative);
            var clear = parse.GetValue(clearTolerance);
            if (revealText is null && absoluteText is null && relativeText is null && !clear)
            {
                Console.Error.WriteLine("tally: give --verify-reveal, --compare-tolerance-absolute/-relative or " +
                    "--clear-compare-tolerance");
                return TallyCommands.ExitUsage;
            }
            if ((absoluteText is not null || relativeText is not null) && clear)
            {
                Console.Error.WriteLine("tally: --clear-compare-tolerance cannot be combined with a tolerance value");
                return TallyCommands.ExitUsage;
            }
            Amount? absoluteValue = null, relativeValue = null;
            foreach (var (text, option) in new[] { (absoluteText, "--compare-tolerance-absolute"), (relativeText, "--compare-tolerance-relative") })
            {
                if (text is null)
                {
                    continue;
                }
                if (!Amount.TryParse(text, out var value) || value < Amount.Zero)
                {
                    Console.Error.WriteLine($"tally: {option} must be a decimal ≥ 0 with at most 8 fraction digits");
                    return TallyCommands.ExitUsage;
                }
                if (option.EndsWith("absolute", StringComparison.Ordinal))
                {
                    absoluteValue = value;
                }
                else
                {
                    relativeValue = value;
                }
            }
            bool found = true;
            try
            {
                var database = new Database(parse.GetValue(data) ?? TallyCommands.LoadOptions(null).DataDirectory);
                if (revealText is not null)
                {
                    found = RevealSetting.Set(database, name, RevealSetting.Parse(revealText)!.Value);
                }
                if (found && (absoluteValue is not null || relativeValue is not null || clear))
                {
                    found = ToleranceSetting.Set(database, name, absoluteValue, relativeValue);
                }
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
            if (revealText is not null)
            {
                Console.WriteLine($"tenant {name}: verify-reveal {revealText}");
            }
            if (absoluteValue is not null || relativeValue is not null || clear)
            {
                Console.WriteLine(clear ? $"tenant {name}: compare tolerance cleared (exact match only)"
                    : $"tenant {name}: compare tolerance absolute {absoluteValue?.ToString() ?? "-"}, relative {relativeValue?.ToString() ?? "-"}");
            }
            return TallyCommands.ExitOk;
        });
        return command;
    }
}
