using System.CommandLine;
using System.Text.Json;
using Tallystick.Server;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Cli;

/// <summary>
/// The <c>tally</c> command tree. Exit codes (docs/cli.md): 0 success, 1 the operation failed (e.g. nothing to revoke,
/// the server refused the request), 2 invalid usage or configuration, 3 a compare mismatch or a checkpoint that does
/// not verify, 4 the server cannot be reached, does not answer, is unavailable or refuses the API key.
/// </summary>
internal static class TallyCommands
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitMismatch = 3;
    public const int ExitUnreachable = 4;

    public static RootCommand Root()
    {
        var connection = new ServerConnection();
        var root = new RootCommand("Tallystick: a verifiable usage-balance ledger (PacSpace Balance API compatible). " +
            "Exit codes: 0 ok, 1 failed or refused, 2 usage, 3 mismatch or not verified, 4 server unreachable or " +
            "key refused (docs/cli.md).")
        {
            Serve(),
            Keys(),
            Log(connection),
            TenantCommands.Create(),
            VerifyCommand.Create(),
            WebhookCommands.Create(),
            EmitCommand.Create(connection),
            DeriveCommand.Create(connection),
            CompareCommand.Create(connection),
            CheckpointCommands.Create(connection),
            CheckpointCommands.List(connection),
            BenchCommand.Create(connection),
        };
        return root;
    }

    private static Option<string?> DataOption() => new("--data")
    {
        Description = "Data directory (default: $TALLY_DATA_DIR or ./data).",
    };

    private static Command Serve()
    {
        var urls = new Option<string?>("--urls") { Description = "Listen URLs, ';'-separated (default http://127.0.0.1:8080)." };
        var data = DataOption();
        var config = new Option<string?>("--config") { Description = "Optional JSON config file (see README)." };
        var command = new Command("serve", "Run the service until SIGTERM/Ctrl+C (then drain, flush and exit 0).")
        {
            urls, data, config,
        };
        command.SetAction(parse =>
        {
            TallyOptions options;
            try
            {
                options = LoadOptions(parse.GetValue(config));
                options.Urls = parse.GetValue(urls) ?? options.Urls;
                options.DataDirectory = parse.GetValue(data) ?? options.DataDirectory;
                var app = TallyServer.Build(options);
                Console.Error.WriteLine($"tally: serving {options.Urls}, data in {Path.GetFullPath(options.DataDirectory)}");
                app.Run();
                return ExitOk;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or JsonException)
            {
                Console.Error.WriteLine($"tally: {e.Message}");
                return ExitUsage;
            }
        });
        return command;
    }

    internal static TallyOptions LoadOptions(string? configFile)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        return TallyOptions.Load(environment, configFile);
    }

    private static Command Keys()
    {
        var keys = new Command("keys", "Manage API keys (works while the server runs).");
        keys.Subcommands.Add(KeysCreate());
        keys.Subcommands.Add(KeysList());
        keys.Subcommands.Add(KeysRevoke());
        return keys;
    }

    private static Command Log(ServerConnection connection)
    {
        var log = new Command("log", "Inspect the transparency log.");
        log.Subcommands.Add(LogCheckpointCommand.Create(connection));
        log.Subcommands.Add(LogVerify());
        return log;
    }

    private static Command LogVerify()
    {
        var data = DataOption();
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("verify",
            "Check the log (fsck): entries, hash tiles, checkpoint roots and signatures. Works on a stopped or " +
            "running server's data directory. Exit 0 sound, 3 problems found, 2 usage error.") { data, json };
        command.SetAction(parse =>
        {
            LogFsckReport report;
            try
            {
                report = LogFsck.Run(parse.GetValue(data) ?? LoadOptions(null).DataDirectory);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException
                or Microsoft.Data.Sqlite.SqliteException)
            {
                Console.Error.WriteLine($"tally: {e.Message}");
                return ExitUsage;
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["ok"] = report.Ok, ["origin"] = report.Origin, ["entries"] = report.Entries,
                    ["pendingEntries"] = report.PendingEntries, ["treeSize"] = report.TreeSize,
                    ["checkpoints"] = report.Checkpoints, ["tiles"] = report.Tiles, ["problems"] = report.Problems,
                }));
            }
            else
            {
                Console.WriteLine("tally log verify: " +
                    (report.Ok ? "OK" : $"FAILED ({report.Problems.Count} problems)"));
                Console.WriteLine($"  origin       {report.Origin}");
                Console.WriteLine($"  entries      {report.Entries} ({report.PendingEntries} waiting for a checkpoint)");
                Console.WriteLine($"  tree size    {report.TreeSize} (latest checkpoint)");
                Console.WriteLine($"  checkpoints  {report.Checkpoints} checked: signature, origin, size, " +
                    "root recomputed from the entries");
                Console.WriteLine("  consistency  implied: every checkpoint root was recomputed from one entry sequence");
                Console.WriteLine($"  tiles        {report.Tiles} hash tiles compared with tiles rebuilt from the entries");
                foreach (var problem in report.Problems)
                {
                    Console.Error.WriteLine($"tally: {problem}");
                }
            }
            return report.Ok ? ExitOk : ExitMismatch;
        });
        return command;
    }

    private static Command KeysCreate()
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant name ([A-Za-z0-9._-], created if new).", Required = true };
        var environment = new Option<string>("--env") { Description = "test or live.", Required = true };
        environment.AcceptOnlyFromAmong("test", "live");
        var data = DataOption();
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("create", "Create a key; it is printed once and never stored.") { tenant, environment, data, json };
        command.SetAction(parse => KeyAdmin.Run(parse.GetValue(data), admin =>
        {
            var key = admin.CreateKey(parse.GetValue(tenant)!, parse.GetValue(environment)!);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["key"] = key.FullKey, ["publicId"] = key.PublicId, ["tenant"] = parse.GetValue(tenant)!,
                    ["environment"] = key.Environment,
                }));
            }
            else
            {
                Console.WriteLine(key.FullKey);
                Console.Error.WriteLine("Store this key now: it cannot be shown again.");
            }
            return ExitOk;
        }));
        return command;
    }

    private static Command KeysList()
    {
        var data = DataOption();
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("list", "List keys (never their secrets).") { data, json };
        command.SetAction(parse => KeyAdmin.Run(parse.GetValue(data), admin =>
        {
            var keys = admin.ListKeys();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(keys.Select(k => new Dictionary<string, object?>
                {
                    ["publicId"] = k.PublicId, ["prefix"] = $"pk_{k.Environment}_{k.PublicId}", ["tenant"] = k.TenantName,
                    ["environment"] = k.Environment, ["createdAt"] = Timestamps.Format(k.CreatedAtUnixMs),
                    ["revokedAt"] = k.RevokedAtUnixMs is { } r ? Timestamps.Format(r) : null,
                })));
                return ExitOk;
            }
            Console.WriteLine($"{"PREFIX",-32} {"TENANT",-20} {"ENV",-5} {"CREATED",-25} STATUS");
            foreach (var k in keys)
            {
                var status = k.RevokedAtUnixMs is { } r ? "revoked " + Timestamps.Format(r) : "active";
                Console.WriteLine($"{"pk_" + k.Environment + "_" + k.PublicId,-32} {k.TenantName,-20} {k.Environment,-5} " +
                    $"{Timestamps.Format(k.CreatedAtUnixMs),-25} {status}");
            }
            return ExitOk;
        }));
        return command;
    }

    private static Command KeysRevoke()
    {
        var key = new Argument<string>("key") { Description = "The key's public id, prefix (pk_test_<id>) or full key." };
        var data = DataOption();
        var command = new Command("revoke", "Revoke a key (takes effect within 2 seconds on a running server).") { key, data };
        command.SetAction(parse => KeyAdmin.Run(parse.GetValue(data), admin =>
        {
            if (admin.Revoke(parse.GetValue(key)!))
            {
                Console.WriteLine("revoked");
                return ExitOk;
            }
            Console.Error.WriteLine("tally: no active key matches");
            return ExitFailed;
        }));
        return command;
    }
}
