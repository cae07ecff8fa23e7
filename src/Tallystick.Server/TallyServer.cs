using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tallystick.Server.Balances;
using Tallystick.Server.Checkpoints;
using Tallystick.Server.Customers;
using Tallystick.Server.Deltas;
using Tallystick.Server.Health;
using Tallystick.Server.Reconciliation;
using Tallystick.Server.Storage;
using Tallystick.Server.Tenants;
using Tallystick.Server.TransparencyLog;
using Tallystick.Server.Verification;
using Tallystick.Server.Webhooks;

namespace Tallystick.Server;

/// <summary>Composes the service: one <c>Add…</c> for dependencies, one <c>Map…</c> per capability.</summary>
public static class TallyServer
{
    /// <summary>Builds the web application for <paramref name="options"/> (validated first).</summary>
    public static WebApplication Build(TallyOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? logging = null)
    {
        options.Validate();
        // No config-file reload: its watcher on the content root (often the working directory that holds ./data)
        // woke up on every WAL write and cost ~5% of a core under load. Tallystick reads its settings once.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = Limits.BatchBodyBytesMax + 1024;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
                .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        }
        builder.AddTallystick(options, time ?? TimeProvider.System);
        var app = builder.Build();
        app.Services.GetRequiredService<DataDirectoryLock>(); // now owned (and released on dispose) by the container
        app.MapTallystick();
        return app;
    }

    private static void AddTallystick(this WebApplicationBuilder builder, TallyOptions options, TimeProvider time)
    {
        var database = new Database(options.DataDirectory);
        var dataLock = DataDirectoryLock.Acquire(database.DataDirectory);
        var directory = new TenantDirectory(database, time);
        if (options.BootstrapApiKeys is { Length: > 0 } keys)
        {
            directory.EnsureBootstrapKeys(keys);
        }
        // Registered through a factory so the container disposes it: a server stopped in-process (tests restarting
        // on the same data directory) releases the lock.
        builder.Services.AddSingleton(_ => dataLock);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(_ => database); // a factory, so the container disposes it (pooled connections)
        builder.Services.AddSingleton(directory);
        builder.Services.AddSingleton(LogIdentity.LoadOrCreate(database, options.LogOrigin));
        builder.Services.AddSingleton<ApiKeyAuthenticator>();
        builder.Services.AddSingleton<RequestMetrics>();
        builder.Services.AddSingleton<IdempotencyKeys>();
        builder.Services.AddSingleton<Sequencer>();
        builder.Services.AddSingleton<TileFiles>();
        builder.Services.AddSingleton<CustomerRows>();
        builder.Services.AddSingleton<LogReader>();
        builder.Services.AddHostedService(s => s.GetRequiredService<Sequencer>());
        builder.Services.AddHostedService<WalCheckpointer>();
        builder.Services.AddHostedService(s => s.GetRequiredService<TileFiles>());
        builder.Services.AddHostedService(s => s.GetRequiredService<CustomerRows>());
        builder.Services.AddWebhooks();
        builder.Services.AddOpenApi();
    }

    private static void MapTallystick(this WebApplication app)
    {
        app.UseRequestMetrics();
        app.Use(Authenticate);
        app.MapHealth();
        app.MapMetrics();
        app.MapDeltas();
        app.MapProofs();
        app.MapBalances();
        app.MapReconciliation();
        app.MapCustomers();
        app.MapCheckpoints();
        app.MapLog();
        app.MapVerify();
        app.MapWebhooks();
        app.MapOpenApi("/openapi/{documentName}.json");
    }

    /// <summary>Every <c>/api/v1/balance/*</c> and <c>/api/v1/webhooks/*</c> call needs a valid, active key of the
    /// plane it addresses.</summary>
    private static Task Authenticate(HttpContext context, Func<Task> next)
    {
        if (!WebhookEndpointsApi.NeedsApiKey(context.Request.Path))
        {
            return next();
        }
        var authenticator = context.RequestServices.GetRequiredService<ApiKeyAuthenticator>();
        var plane = authenticator.Authenticate(context.Request.Headers["X-Api-Key"].ToString());
        if (plane is null)
        {
            return Responses.WriteError(context, new ApiError("INVALID_API_KEY",
                "X-Api-Key is missing, malformed, unknown or revoked"));
        }
        Http.SetPlane(context, plane);
        return next();
    }
}
