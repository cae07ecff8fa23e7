using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: the store answers and verification is moving.</summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Json(new Dictionary<string, string> { ["status"] = "ok" }))
            .WithName("Healthz").ExcludeFromDescription();
        app.MapGet("/readyz", Ready).WithName("Readyz").ExcludeFromDescription();
    }

    private static IResult Ready(Sequencer sequencer, Database database, CustomerRows rows)
    {
        string? problem;
        try
        {
            using var connection = database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM meta";
            command.ExecuteScalar();
            problem = sequencer.Problem;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or StoreUnavailableException)
        {
            problem = $"store unreachable: {e.Message}";
        }
        var head = sequencer.Head;
        var body = new Dictionary<string, object?>
        {
            ["status"] = problem is null ? "ready" : "not_ready",
            ["problem"] = problem,
            ["sequencedSize"] = head.SequencedSize,
            ["checkpointSize"] = head.CheckpointSize,
            // Durable deltas not yet in the clustered row copy (informational: answers are the same either way).
            ["uncopiedRows"] = Math.Max(0, head.DeltasBelow - rows.Below),
        };
        return Results.Json(body, statusCode: problem is null ? 200 : 503);
    }
}
