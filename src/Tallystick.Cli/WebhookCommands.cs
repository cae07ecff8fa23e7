using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using Tallystick.Client;
using Tallystick.Server.Storage;
using Tallystick.Server.Webhooks;

namespace Tallystick.Cli;

/// <summary><c>tally webhooks endpoints create|list|delete</c> (on the data directory, like <c>keys</c>) and
/// <c>tally webhooks listen</c> (a local receiver that verifies signatures with the SDK's verifier).</summary>
internal static class WebhookCommands
{
    /// <summary>Bodies larger than this are answered 413 by the local receiver.</summary>
    public const int ListenBodyBytesMax = 1024 * 1024;

    public static Command Create()
    {
        var webhooks = new Command("webhooks", "Webhook endpoints and a local receiver.");
        var endpoints = new Command("endpoints", "Manage webhook endpoints (works while the server runs).");
        endpoints.Subcommands.Add(EndpointsCreate());
        endpoints.Subcommands.Add(EndpointsList());
        endpoints.Subcommands.Add(EndpointsDelete());
        webhooks.Subcommands.Add(endpoints);
        webhooks.Subcommands.Add(Listen());
        return webhooks;
    }

    private static (Option<string> Tenant, Option<string> Environment, Option<string?> Data) PlaneOptions()
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant name.", Required = true };
        var environment = new Option<string>("--env") { Description = "test or live.", Required = true };
        environment.AcceptOnlyFromAmong("test", "live");
        var data = new Option<string?>("--data") { Description = "Data directory (default: $TALLY_DATA_DIR or ./data)." };
        return (tenant, environment, data);
    }

    private static int WithPlane(ParseResult parse, (Option<string> Tenant, Option<string> Environment, Option<string?> Data) o,
        Func<WebhookEndpoints, long, int> action)
    {
        try
        {
            var options = TallyCommands.LoadOptions(null);
            var endpoints = new WebhookEndpoints(new Database(parse.GetValue(o.Data) ?? options.DataDirectory), TimeProvider.System);
            var plane = endpoints.FindPlane(parse.GetValue(o.Tenant)!, parse.GetValue(o.Environment)!);
            if (plane is null)
            {
                Console.Error.WriteLine($"tally: tenant '{parse.GetValue(o.Tenant)}' has no {parse.GetValue(o.Environment)} " +
                    "environment (create a key for it first: tally keys create)");
                return TallyCommands.ExitUsage;
            }
            return action(endpoints, plane.Value);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"tally: {e.Message}");
            return TallyCommands.ExitUsage;
        }
    }

    private static Command EndpointsCreate()
    {
        var o = PlaneOptions();
        var url = new Option<string>("--url") { Description = "The endpoint URL (http or https).", Required = true };
        var events = new Option<string?>("--events") { Description = "Comma-separated event types (default: all)." };
        var description = new Option<string?>("--description") { Description = "A note for humans." };
        var command = new Command("create", "Register an endpoint; its secret is printed once.")
        {
            o.Tenant, o.Environment, o.Data, url, events, description,
        };
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            var (types, error) = WebhookEndpoints.ParseEvents(parse.GetValue(events)?.Split(',',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var options = TallyCommands.LoadOptions(null);
            error ??= new WebhookTargets(options.WebhooksAllowPrivateTargets).Check(parse.GetValue(url), default)
                .GetAwaiter().GetResult();
            if (error is not null)
            {
                Console.Error.WriteLine($"tally: {error.Code}: {error.Message}");
                return TallyCommands.ExitUsage;
            }
            var (endpoint, limit) = endpoints.Create(plane, parse.GetValue(url)!, parse.GetValue(description), types, enabled: true);
            if (limit is not null)
            {
                Console.Error.WriteLine($"tally: {limit.Message}");
                return TallyCommands.ExitFailed;
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
        var o = PlaneOptions();
        var command = new Command("list", "List endpoints (never their secrets).") { o.Tenant, o.Environment, o.Data };
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            Console.WriteLine($"{"ID",-10} {"STATUS",-9} {"EVENTS",-50} URL");
            foreach (var e in endpoints.List(plane))
            {
                var status = e.Enabled ? "enabled" : "disabled";
                Console.WriteLine($"{e.PublicId,-10} {status,-9} {(e.Events is null ? "all" : string.Join(',', e.Events)),-50} {e.Url}" +
                    (e.DisabledReason is null ? "" : $"  ({e.DisabledReason})"));
            }
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    private static Command EndpointsDelete()
    {
        var o = PlaneOptions();
        var id = new Option<string>("--id") { Description = "The endpoint id (we_N).", Required = true };
        var command = new Command("delete", "Delete an endpoint; its pending deliveries stop.") { o.Tenant, o.Environment, o.Data, id };
        command.SetAction(parse => WithPlane(parse, o, (endpoints, plane) =>
        {
            if (WebhookEndpoint.TryParseId(parse.GetValue(id)!) is { } number && endpoints.Delete(plane, number))
            {
                Console.WriteLine($"deleted {parse.GetValue(id)}");
                return TallyCommands.ExitOk;
            }
            Console.Error.WriteLine($"tally: no endpoint {parse.GetValue(id)} in that environment");
            return TallyCommands.ExitFailed;
        }));
        return command;
    }

    private static Command Listen()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var secrets = new Option<string[]>("--secret")
        {
            Description = "Endpoint secret(s) (whsec_…); repeat for the previous one while rotating.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("listen",
            "Receive webhooks on http://127.0.0.1:PORT/, verify both signature schemes and print each event.") { port, secrets };
        command.SetAction(parse => RunListener(parse.GetValue(port), parse.GetValue(secrets)!));
        return command;
    }

    private static int RunListener(int port, string[] secrets)
    {
        var verifier = new WebhookVerifier(secrets);
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        Console.Error.WriteLine($"tally: listening on http://127.0.0.1:{port}/ (Ctrl+C to stop)");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
            listener.Stop();
        };
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = listener.GetContext();
            }
            catch (HttpListenerException) when (stop.IsCancellationRequested)
            {
                break;
            }
            Handle(context, verifier);
        }
        return TallyCommands.ExitOk;
    }

    private static void Handle(HttpListenerContext context, WebhookVerifier verifier)
    {
        using var buffer = new MemoryStream();
        context.Request.InputStream.CopyTo(buffer);
        if (buffer.Length > ListenBodyBytesMax)
        {
            context.Response.StatusCode = 413;
            context.Response.Close();
            return;
        }
        var body = buffer.ToArray();
        var headers = context.Request.Headers;
        var standard = verifier.Verify(name => headers[name], body);
        var pacSpace = verifier.VerifyPacSpace(headers[WebhookVerifier.PacSpaceSignatureHeader],
            headers[WebhookVerifier.PacSpaceTimestampHeader], body);
        var ok = standard == WebhookVerificationStatus.Verified && pacSpace == WebhookVerificationStatus.Verified;
        Console.WriteLine($"{headers["X-Event-ID"] ?? "-"} {headers["X-Webhook-Event"] ?? "-"} " +
            $"standard-webhooks={standard} pacspace={pacSpace}");
        try
        {
            using var document = JsonDocument.Parse(body);
            using var output = new MemoryStream();
            using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
            {
                document.RootElement.WriteTo(writer);
            }
            Console.WriteLine(Encoding.UTF8.GetString(output.ToArray()));
        }
        catch (JsonException)
        {
            Console.WriteLine(Encoding.UTF8.GetString(body));
        }
        context.Response.StatusCode = ok ? 200 : 401;
        context.Response.Close();
    }
}
