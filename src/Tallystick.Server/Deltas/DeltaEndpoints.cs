using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Wire;

namespace Tallystick.Server.Deltas;

/// <summary>Emit (single and batch) and record status.</summary>
internal static class DeltaEndpoints
{
    public static void MapDeltas(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/balance/delta", Emit).WithName("EmitDelta")
            .Produces<Envelope<EmitResult>>(201)
            .Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(409);
        app.MapPost("/api/v1/balance/delta/batch", EmitBatch).WithName("EmitDeltaBatch")
            .Produces<Envelope<BatchEmitResult>>(201)
            .Produces<ErrorEnvelope>(400);
        app.MapGet("/api/v1/balance/delta/{recordId}", GetStatus).WithName("GetDeltaStatus")
            .Produces<Envelope<DeltaStatusResult>>().Produces<ErrorEnvelope>(404);
    }

    private static async Task Emit(HttpContext context, Sequencer sequencer, IdempotencyKeys keys)
    {
        var (body, error) = await Http.ReadJsonBody(context, Limits.EmitBodyBytesMax);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var (draft, invalid) = EmitParser.ParseSingle(body);
        if (invalid is not null)
        {
            await Responses.WriteError(context, invalid);
            return;
        }
        var items = new[] { new ParsedItem(draft, null, draft!.CustomerId, draft.Amount) };
        await Submit(context, sequencer, keys, items, isBatch: false);
    }

    private static async Task EmitBatch(HttpContext context, Sequencer sequencer, IdempotencyKeys keys)
    {
        var (body, error) = await Http.ReadJsonBody(context, Limits.BatchBodyBytesMax);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var (items, invalid) = EmitParser.ParseBatch(body);
        if (invalid is not null)
        {
            await Responses.WriteError(context, invalid);
            return;
        }
        await Submit(context, sequencer, keys, items!, isBatch: true);
    }

    private static async Task Submit(HttpContext context, Sequencer sequencer, IdempotencyKeys keys,
        IReadOnlyList<ParsedItem> items, bool isBatch)
    {
        var plane = Http.Plane(context);
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length == 0)
        {
            await Answer(context, sequencer, new WorkItem(plane, items, isBatch, null, null));
            return;
        }
        if (IdempotencyKeys.Validate(key) is { } badKey)
        {
            await Responses.WriteError(context, badKey);
            return;
        }
        if (!keys.TryClaim(plane.Id, key))
        {
            await Pending(context);
            return;
        }
        try
        {
            var fingerprint = RequestFingerprint.Compute(isBatch ? "batch" : "single", items);
            var stored = keys.Find(plane.Id, key, fingerprint, out var conflict);
            if (conflict)
            {
                await Responses.WriteError(context, new ApiError("IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used with a different request body; use a new key for a new request"));
                return;
            }
            if (stored is not null)
            {
                context.Response.Headers["Idempotent-Replayed"] = "true";
                await Responses.WriteBytes(context, stored.StatusCode, stored.Body);
                return;
            }
            await Answer(context, sequencer, new WorkItem(plane, items, isBatch, key, fingerprint));
        }
        finally
        {
            keys.Release(plane.Id, key);
        }
    }

    /// <summary>Queues <paramref name="item"/> and writes its answer once durable (503 when the queue refuses it).</summary>
    internal static async Task Answer(HttpContext context, Sequencer sequencer, WorkItem item)
    {
        if (!sequencer.TrySubmit(item))
        {
            await Responses.WriteError(context, new ApiError("SERVICE_UNAVAILABLE",
                "the ledger is at capacity or shutting down; nothing was recorded, retry", RetryAfterSeconds: 1));
            return;
        }
        // Not cancelled by the client going away: once queued, the delta is recorded and the answer stored.
        var answer = await item.Completion.Task;
        if (answer.StatusCode == StatusCodes.Status503ServiceUnavailable && RetryAfterSeconds(answer.Body) is { } seconds)
        {
            // The sequencer answers a failed commit as bytes; SDKs wait for the Retry-After header (reference §2.0).
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await Responses.WriteBytes(context, answer.StatusCode, answer.Body);
    }

    private static int? RetryAfterSeconds(byte[] errorBody) =>
        System.Text.Json.JsonSerializer.Deserialize(errorBody, WireJson.Default.ErrorEnvelope)?.RetryAfterSeconds;

    private static Task Pending(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        var body = System.Text.Encoding.UTF8.GetBytes(
            "{\"success\":false,\"statusCode\":202,\"code\":\"IDEMPOTENCY_PENDING\",\"retryAfterSeconds\":1," +
            "\"message\":\"A request with this Idempotency-Key is still in progress; retry shortly.\"," +
            "\"error\":{\"code\":\"IDEMPOTENCY_PENDING\",\"message\":\"A request with this Idempotency-Key is still " +
            "in progress; retry shortly.\",\"retryAfterSeconds\":1}}");
        return Responses.WriteBytes(context, StatusCodes.Status202Accepted, body);
    }

    private static async Task GetStatus(HttpContext context, string recordId, Sequencer sequencer, Storage.Database database)
    {
        var plane = Http.Plane(context);
        var notFound = new ApiError("RECORD_NOT_FOUND", $"no record '{recordId}' in this environment", "recordId");
        if (RecordIds.TryParse(recordId) is not { } id)
        {
            await Responses.WriteError(context, notFound);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        var result = RecordStatus.Read(connection, plane.Id, id, head, sequencer.Origin);
        if (result is null)
        {
            await Responses.WriteError(context, notFound);
            return;
        }
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeDeltaStatusResult);
    }
}
