using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tallystick.Client;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally webhooks listen --port P --secret whsec_… [--secret …] [--json]</c>: a local receiver for developers on
/// http://127.0.0.1:P/ (any path). Each request is checked with the SDK's <see cref="WebhookVerifier"/>, both schemes
/// (Standard Webhooks and PacSpace), within its 5-minute tolerance, and printed; it is answered 200 when both verify
/// and 401 otherwise (so the server retries a delivery signed with a secret the listener was not given). Runs until
/// SIGINT or SIGTERM, then exits 0; a port it cannot listen on, or a missing secret, exits 2.
/// </summary>
internal static class WebhookListener
{
    /// <summary>Bodies larger than this are answered 413.</summary>
    public const int BodyBytesMax = 1024 * 1024;

    public static Command Command()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var secrets = new Option<string[]>("--secret")
        {
            Description = "Endpoint secret(s) (whsec_…); repeat for the previous one while rotating.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object per request: {eventId, event, standardWebhooks, pacSpace, verified, " +
                "status, payload}.",
        };
        var command = new Command("listen",
            "Receive webhooks on http://127.0.0.1:PORT/, verify both signature schemes and print each event; answers " +
            "200 when both verify, else 401. Stops on SIGINT/SIGTERM. Exit codes: 0 stopped, 2 usage (port in use, " +
            "no secret).") { port, secrets, json };
        command.SetAction(parse => Run(parse.GetValue(port), parse.GetValue(secrets)!, parse.GetValue(json)));
        return command;
    }

    private static int Run(int port, string[] secrets, bool json)
    {
        WebhookVerifier verifier;
        try
        {
            verifier = new WebhookVerifier(secrets);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"tally: {e.Message}");
            return TallyCommands.ExitUsage;
        }
        using var listener = new HttpListener();
        try
        {
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
        }
        catch (Exception e) when (e is HttpListenerException or ArgumentException)
        {
            Console.Error.WriteLine($"tally: cannot listen on 127.0.0.1:{port}: {e.Message}");
            return TallyCommands.ExitUsage;
        }
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
            listener.Stop();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.Error.WriteLine($"tally: listening on http://127.0.0.1:{port}/ (Ctrl+C to stop)");
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = listener.GetContext();
            }
            catch (Exception e) when (stop.IsCancellationRequested &&
                e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                break;
            }
            Handle(context, verifier, json);
        }
        return TallyCommands.ExitOk;
    }

    private static void Handle(HttpListenerContext context, WebhookVerifier verifier, bool json)
    {
        using var buffer = new MemoryStream();
        context.Request.InputStream.CopyTo(buffer);
        if (buffer.Length > BodyBytesMax)
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
        var verified = standard == WebhookVerificationStatus.Verified && pacSpace == WebhookVerificationStatus.Verified;
        var status = verified ? 200 : 401;
        Console.WriteLine(json
            ? Line(headers, body, standard, pacSpace, verified, status)
            : $"{headers["X-Event-ID"] ?? "-"} {headers["X-Webhook-Event"] ?? "-"} " +
                $"standard-webhooks={standard} pacspace={pacSpace} -> {status}{Environment.NewLine}{Pretty(body)}");
        context.Response.StatusCode = status;
        context.Response.Close();
    }

    private static string Line(System.Collections.Specialized.NameValueCollection headers, byte[] body,
        WebhookVerificationStatus standard, WebhookVerificationStatus pacSpace, bool verified, int status) =>
        WebhookCommands.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("eventId", headers["X-Event-ID"]);
            w.WriteString("event", headers["X-Webhook-Event"]);
            w.WriteString("standardWebhooks", standard.ToString());
            w.WriteString("pacSpace", pacSpace.ToString());
            w.WriteBoolean("verified", verified);
            w.WriteNumber("status", status);
            w.WritePropertyName("payload");
            try
            {
                using var document = JsonDocument.Parse(body);
                document.RootElement.WriteTo(w);
            }
            catch (JsonException)
            {
                w.WriteStringValue(Encoding.UTF8.GetString(body));
            }
            w.WriteEndObject();
        });

    private static string Pretty(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            using var output = new MemoryStream();
            using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
            {
                document.RootElement.WriteTo(writer);
            }
            return Encoding.UTF8.GetString(output.ToArray());
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(body);
        }
    }
}
