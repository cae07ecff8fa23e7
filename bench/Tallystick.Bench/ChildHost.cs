using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tallystick.Server;

namespace Tallystick.Bench;

/// <summary>The child-process side: hosts one server until "stop" arrives on stdin (or stdin closes).</summary>
internal static class ChildHost
{
    /// <summary>The extra argument of <c>--serve-tally</c> that sets <c>WebhooksAllowPrivateTargets</c>.</summary>
    public const string AllowPrivateWebhookTargets = "--webhooks-allow-private-targets";

    public static bool IsChildMode(string[] args) =>
        args.Length >= 2 && (args[0] == "--serve-tally" || args[0] == "--serve-bare");

    public static async Task<int> RunAsync(string[] args)
    {
        var url = args[1];
        await using var app = args[0] == "--serve-tally"
            ? TallyServer.Build(new TallyOptions
            {
                Urls = url,
                DataDirectory = args[2],
                BootstrapApiKeys = "bench=" + ServerProcess.ApiKey,
                WebhooksAllowPrivateTargets = args.Contains(AllowPrivateWebhookTargets),
            })
            : BareServer.Build(url);
        await app.StartAsync();
        Console.WriteLine("READY");
        // Stop on "stop", on end of input (the bench died), or on SIGTERM/SIGINT (the host's lifetime sees those).
        // Console.In reads synchronously (even its ReadLineAsync), so it gets a thread of its own.
        var stopRequested = Task.Factory.StartNew(WaitForStopLine, TaskCreationOptions.LongRunning);
        var signalled = Task.Delay(Timeout.Infinite, app.Lifetime.ApplicationStopping);
        await Task.WhenAny(stopRequested, signalled);
        await app.StopAsync();
        return 0;
    }

    private static void WaitForStopLine()
    {
        while (Console.In.ReadLine() is { } line && line != "stop")
        {
        }
    }
}

/// <summary>
/// The reference: a minimal ASP.NET Core app (slim builder, same Kestrel, no logging) whose emit handler only
/// parses the same JSON body with System.Text.Json and answers a small envelope. It bounds what any ASP.NET Core
/// server can do on this machine, so the tally/bare ratio isolates the cost of Tallystick's own work.
/// </summary>
internal static class BareServer
{
    private static readonly byte[] Answer = """{"success":true,"data":{"ok":true}}"""u8.ToArray();

    public static WebApplication Build(string url)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/api/v1/balance/delta", (RequestDelegate)Emit);
        return app;
    }

    private static async Task Emit(HttpContext context)
    {
        var body = await JsonSerializer.DeserializeAsync(context.Request.Body, BareJson.Default.BareEmit,
            context.RequestAborted);
        if (body is null || string.IsNullOrEmpty(body.CustomerId))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Answer.Length;
        await context.Response.Body.WriteAsync(Answer, context.RequestAborted);
    }
}

/// <summary>The emit body as the bare endpoint reads it.</summary>
internal sealed record BareEmit(string? CustomerId, decimal Delta, string? Reason, string? ReferenceId);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BareEmit))]
internal sealed partial class BareJson : JsonSerializerContext;
