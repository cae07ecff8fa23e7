using System.Buffers;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Tallystick.Server.Storage;
using Tallystick.Server.Webhooks;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally webhooks endpoints create|list|update|delete|rotate-secret</c> (on the data directory, like <c>keys</c>;
/// the same rules and JSON shapes as <c>/api/v1/webhooks/endpoints</c>) and <c>tally webhooks listen</c>
/// (<see cref="WebhookListener"/>). Exit codes: 0 success, 1 the operation failed (no such endpoint, the limit of
/// endpoints reached), 2 invalid usage (a refused URL, an unknown tenant environment or event type).
/// </summary>
internal static class WebhookCommands
{
    private const string ExitCodes = "Exit codes: 0 success, 1 failed (no such endpoint, endpoint limit), 2 usage.";

    public static Command Create()
    {
        var webhooks = new Command("webhooks", "Webhook endpoints and a local receiver.");
        var endpoints = new Command("endpoints", "Manage webhook endpoints (works while the server runs; it sees " +
            "changes within 2 s). " + ExitCodes);
        endpoints.Subcommands.Add(EndpointsCreate());
        endpoints.Subcommands.Add(EndpointsList());
        endpoints.Subcommands.Add(EndpointsUpdate());
        endpoints.Subcommands.Add(EndpointsDelete());
        endpoints.Subcommands.Add(EndpointsRotateSecret());
        webhooks.Subcommands.Add(endpoints);
        webhooks.Subcommands.Add(WebhookListener.Command());
        return webhooks;
    }

    /// <summary>The options every endpoints command takes: which environment, where the data is, JSON or text.
    /// </summary>
    private sealed record PlaneOptions(Option<string> Tenant, Option<string> Environment, Option<string?> Data,
        Option<bool> Json)
    {
        public static PlaneOptions New()
        {
            var environment = new Option<string>("--env") { Description = "test or live.", Required = true };
            environment.AcceptOnlyFromAmong("test", "live");
            return new PlaneOptions(new Option<string>("--tenant") { Description = "Tenant name.", Required = true },
                environment,
                new Option<string?>("--data") { Description = "Data directory (default: $TALLY_DATA_DIR or ./data)." },
                new Option<bool>("--json") { Description = "Print JSON (the API's endpoint objects)." });
        }

        public Command Add(Command command)
        {
            command.Options.Add(Tenant);
            command.Options.Add(Environment);
            command.Options.Add(Data);
            command.Options.Add(Json);
            return command;
        }
    }

    private static Option<string> IdOption() => new("--id") { Description = "The endpoint id (we_N).", Required = true };

    private static int WithPlane(ParseResult parse, PlaneOptions o, Func<WebhookEndpoints, long, int> action)
    {
        try
        {
            var options = TallyCommands.LoadOptions(null);
            var database = new Database(parse.GetValue(o.Data) ?? options.DataDirectory);
            var endpoints = new WebhookEndpoints(database, TimeProvider.System);
            var plane = endpoints.FindPlane(parse.GetValue(o.Tenant)!, parse.GetValue(o.Environment)!);
            if (plane is null)
            {
                Console.Error.WriteLine($"tally: tenant '{parse.GetValue(o.Tenant)}' has no " +
                    $"{parse.GetValue(o.Environment)} environment (create a key for it first: tally keys create)");
                return TallyCommands.ExitUsage;
            }
            return action(endpoints, plane.Value);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException
            or Microsoft.Data.Sqlite.SqliteException or StoreUnavailableException)
        {
            Console.Error.WriteLine($"tally: {e.Message}");
            return TallyCommands.ExitUsage;
        }
    }

    /// <summary>Checks a URL as the API does (SSRF rules per <c>TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS</c>).</summary>
    private static string? RefuseUrl(string url)
    {
        var allowPrivate = TallyCommands.LoadOptions(null).WebhooksAllowPrivateTargets;
        var error = new WebhookTargets(allowPrivate).Check(url, CancellationToken.None).GetAwaiter().GetResult();
        return error is null ? null : $"{error.Code}: {error.Message}";
    }

    private static (IReadOnlyList<string>? Events, string? Error) ParseEvents(string? text)
    {
        var (events, error) = WebhookEndpoints.ParseEvents(text?.Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return (events, error is null ? null : $"{error.Code}: {error.Message}");
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"tally: {message}");
        return TallyCommands.ExitUsage;
    }

    private static Command EndpointsCreate()
    {
        var o = PlaneOptions.New();
        var url = new Option<string>("--url") { Description = "The endpoint URL (http or https).", Required = true };
        var events = new Option<string?>("--events")
        {
            Description = "Comma-separated event types (default: all): " + string.Join(", ", WebhookEventTypes.Subscribable),
        };
        var description = new Option<string?>("--description") { Description = "A note for humans." };
        var disabled = new Option<bool>("--disabled") { Description = "Create it disabled." };
        var command = o.Add(new Command("create", "Register an endpoint; its secret is printed once. " + ExitCodes)
        {
            url, events, description, disabled,
        });
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var (types, eventsError) = ParseEvents(parse.GetValue(events));
            if ((eventsError ?? RefuseUrl(parse.GetValue(url)!)) is { } error)
            {
                return Usage(error);
            }
            var (endpoint, limit) = endpoints.Create(plane, parse.GetValue(url)!, parse.GetValue(description), types,
                enabled: !parse.GetValue(disabled));
            if (limit is not null)
            {
                Console.Error.WriteLine($"tally: {limit.Code}: {limit.Message}");
                return TallyCommands.ExitFailed;
            }
            if (parse.GetValue(o.Json))
            {
                Console.WriteLine(Json(w => WebhookEndpointsApi.WriteEndpoint(w, endpoint!, endpoint!.Secret)));
                return TallyCommands.ExitOk;
            }
            Console.WriteLine($"{endpoint!.PublicId} {endpoint.Url}");
            Console.WriteLine(endpoint.Secret);
            Console.Error.WriteLine("Store this secret now: it cannot be shown again.");
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    private static Command EndpointsList()
    {
        var o = PlaneOptions.New();
        var command = o.Add(new Command("list", "List endpoints (never their secrets). " + ExitCodes));
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var list = endpoints.List(plane);
            if (parse.GetValue(o.Json))
            {
                Console.WriteLine(Json(w =>
                {
                    w.WriteStartArray();
                    foreach (var endpoint in list)
                    {
                        WebhookEndpointsApi.WriteEndpoint(w, endpoint, secret: null);
                    }
                    w.WriteEndArray();
                }));
                return TallyCommands.ExitOk;
            }
            Console.WriteLine($"{"ID",-10} {"STATUS",-9} {"EVENTS",-50} URL");
            foreach (var e in list)
            {
                var status = e.Enabled ? "enabled" : "disabled";
                var types = e.Events is null ? "all" : string.Join(',', e.Events);
                Console.WriteLine($"{e.PublicId,-10} {status,-9} {types,-50} {e.Url}" +
                    (e.DisabledReason is null ? "" : $"  ({e.DisabledReason})"));
            }
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    private static Command EndpointsUpdate()
    {
        var o = PlaneOptions.New();
        var id = IdOption();
        var url = new Option<string?>("--url") { Description = "A new URL." };
        var events = new Option<string?>("--events") { Description = "Subscribe to these event types only." };
        var allEvents = new Option<bool>("--all-events") { Description = "Subscribe to every event type." };
        var description = new Option<string?>("--description") { Description = "A new note." };
        var enable = new Option<bool>("--enable")
        {
            Description = "Enable it (also clears the reason and failure streak of an endpoint the server disabled).",
        };
        var disable = new Option<bool>("--disable") { Description = "Disable it: deliveries to it wait." };
        var command = o.Add(new Command("update", "Change an endpoint, as PATCH does. " + ExitCodes)
        {
            id, url, events, allEvents, description, enable, disable,
        });
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var (types, eventsError) = ParseEvents(parse.GetValue(events));
            var newUrl = parse.GetValue(url);
            if ((eventsError ?? (newUrl is null ? null : RefuseUrl(newUrl))) is { } error)
            {
                return Usage(error);
            }
            if (parse.GetValue(enable) && parse.GetValue(disable) || parse.GetValue(allEvents) && types is not null)
            {
                return Usage("--enable and --disable, and --events and --all-events, exclude each other");
            }
            if (newUrl is null && types is null && !parse.GetValue(allEvents) && parse.GetValue(description) is null &&
                !parse.GetValue(enable) && !parse.GetValue(disable))
            {
                return Usage("nothing to change: give --url, --events, --all-events, --description, --enable or --disable");
            }
            bool? enabled = parse.GetValue(enable) ? true : parse.GetValue(disable) ? false : null;
            var patch = new WebhookEndpointPatch(newUrl, parse.GetValue(description), types, enabled,
                ClearEvents: parse.GetValue(allEvents));
            var endpoint = WebhookEndpoint.TryParseId(parse.GetValue(id)!) is { } number
                ? endpoints.Update(plane, number, patch)
                : null;
            return Print(parse, o, endpoint, parse.GetValue(id)!, secret: false);
        }));
        return command;
    }

    private static Command EndpointsDelete()
    {
        var o = PlaneOptions.New();
        var id = IdOption();
        var command = o.Add(new Command("delete", "Delete an endpoint; its pending deliveries stop. " + ExitCodes) { id });
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var text = parse.GetValue(id)!;
            if (WebhookEndpoint.TryParseId(text) is not { } number || !endpoints.Delete(plane, number))
            {
                Console.Error.WriteLine($"tally: no endpoint {text} in that environment");
                return TallyCommands.ExitFailed;
            }
            Console.WriteLine(parse.GetValue(o.Json)
                ? Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", text);
                    w.WriteBoolean("deleted", true);
                    w.WriteEndObject();
                })
                : $"deleted {text}");
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    private static Command EndpointsRotateSecret()
    {
        var o = PlaneOptions.New();
        var id = IdOption();
        var command = o.Add(new Command("rotate-secret", "Replace the secret (printed once); the previous one keeps " +
            "signing, as a second signature, for 24 hours. " + ExitCodes) { id });
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var endpoint = WebhookEndpoint.TryParseId(parse.GetValue(id)!) is { } number
                ? endpoints.RotateSecret(plane, number)
                : null;
            return Print(parse, o, endpoint, parse.GetValue(id)!, secret: true);
        }));
        return command;
    }

    private static int Print(ParseResult parse, PlaneOptions o, WebhookEndpoint? endpoint, string id, bool secret)
    {
        if (endpoint is null)
        {
            Console.Error.WriteLine($"tally: no endpoint {id} in that environment");
            return TallyCommands.ExitFailed;
        }
        if (parse.GetValue(o.Json))
        {
            Console.WriteLine(Json(w => WebhookEndpointsApi.WriteEndpoint(w, endpoint, secret ? endpoint.Secret : null)));
            return TallyCommands.ExitOk;
        }
        var status = endpoint.Enabled ? "enabled" : "disabled";
        Console.WriteLine($"{endpoint.PublicId} {status} {(endpoint.Events is null ? "all" : string.Join(',', endpoint.Events))} " +
            endpoint.Url);
        if (secret)
        {
            Console.WriteLine(endpoint.Secret);
            Console.Error.WriteLine("Store this secret now: it cannot be shown again.");
        }
        return TallyCommands.ExitOk;
    }

    internal static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
