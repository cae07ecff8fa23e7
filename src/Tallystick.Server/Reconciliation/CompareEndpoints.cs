using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Server.Balances;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Reconciliation;

/// <summary>
/// Compare (reference §2.6): balances and, optionally, each party's record view against the verified record of a
/// scope; and per-window totals and roots so a party can localise a divergence without shipping its history.
/// </summary>
internal static class CompareEndpoints
{
    /// <summary>
    /// A customer's verified deltas with sequence numbers in [$from, $to), in sequence order, with the columns the
    /// reconciliation needs: one seek for the record holding $from, then each record's contiguous rowid range
    /// (records_by_customer order is sequence order, and a record's rowids ascend with its sequence numbers).
    /// </summary>
    private const string WindowDeltas =
        "SELECT d.seq, d.amount_units, d.reference_id, d.received_at, d.item_hash FROM records r " +
        "JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
        "WHERE r.customer = $k AND r.first_seq < $to AND r.first_seq >= coalesce(" +
        "(SELECT max(first_seq) FROM records WHERE customer = $k AND first_seq <= $from), 0) " +
        "AND d.seq >= $from AND d.seq < $to ORDER BY r.first_seq, d.id";

    public static void MapReconciliation(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/balance/compare", Compare).WithName("CompareBalances")
            .Produces<Envelope<CompareResult>>(201).Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404);
        app.MapGet("/api/v1/balance/compare/{customerId}/windows", Windows).WithName("CompareWindows")
            .Produces<Envelope<CompareWindows>>().Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404);
        app.MapGet("/api/v1/balance/gaps/{customerId}", Gaps.Get).WithName("SequenceGaps")
            .Produces<Envelope<GapReport>>().Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404);
    }

    private static async Task Compare(HttpContext context, Sequencer sequencer, Database database, TimeProvider time)
    {
        var plane = Http.Plane(context);
        // Only this endpoint takes large bodies (two 100k-record views); Kestrel's default stays at the batch size.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = Limits.CompareBodyBytesMax + 1024;
        }
        var (body, bodyError) = await Http.ReadJsonBody(context, Limits.CompareBodyBytesMax);
        if (bodyError is not null)
        {
            await Responses.WriteError(context, bodyError);
            return;
        }
        var (request, parsed) = Parse(body!);
        if (parsed.Error is not null)
        {
            await Responses.WriteError(context, parsed.Error);
            return;
        }
        var now = time.GetUtcNow();
        var (scope, badScope) = Scope.Parse(ScopeOf(request!), now);
        if (badScope is not null)
        {
            await Responses.WriteError(context, badScope);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        using var snapshot = connection.BeginTransaction(deferred: true); // one snapshot, one set of locks (as derive)
        var totals = CustomerTotals.Read(connection, plane.Id, request!.CustomerId!, head.CheckpointSize);
        if (totals is null)
        {
            await Responses.WriteError(context, BalanceEndpoints.CustomerNotFound(request.CustomerId!));
            return;
        }
        var (window, breakdown, error) = BalanceEndpoints.Resolve(connection, totals, scope!, now);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        if (request.Tolerance is null && ToleranceSetting.Read(connection, plane.Id) is { } tenantDefault)
        {
            request = request with { Tolerance = tenantDefault };
        }
        var result = BalanceCompare.Build(request, parsed, window!, breakdown, DeltaRows.Current(head),
            parsed.HasRecords ? Stream(connection, totals.CustomerKey, window!) : null);
        await Responses.Write(context, 201, result, WireJson.Default.EnvelopeCompareResult);
    }

    /// <summary>The window's verified deltas, streamed in sequence order (one pass, nothing buffered).</summary>
    private static IEnumerable<LedgerDelta> Stream(SqliteConnection connection, long customerKey, ScopeWindow window)
    {
        using var command = WindowCommand(connection, customerKey, window.FromSequence, window.ToSequence);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new LedgerDelta(reader.GetInt64(0), reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3));
        }
    }

    private static SqliteCommand WindowCommand(SqliteConnection connection, long customerKey, long from, long to)
    {
        var command = connection.CreateCommand();
        command.CommandText = WindowDeltas;
        command.Parameters.AddWithValue("$k", customerKey);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        return command;
    }

    private static ScopeInput ScopeOf(CompareRequest request) => new(
        request.Period, request.TimePreset, request.StartDate, request.EndDate, request.StartingBalance?.ToString(),
        request.StartingCheckpoint, request.StartingCheckpointType, request.Granularity);

    private static (CompareRequest? Request, ParsedCompare Parsed) Parse(byte[] body)
    {
        CompareRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body, WireJson.Default.CompareRequest);
        }
        catch (JsonException e)
        {
            return (null, ParsedCompare.Fail(new ApiError("INVALID_BODY",
                $"the body is not a compare request: {e.Message}", e.Path)));
        }
        if (request is null)
        {
            return (null, ParsedCompare.Fail(new ApiError("INVALID_BODY", "the body must be a JSON object")));
        }
        return (request, ParsedCompare.Validate(request));
    }

    private static async Task Windows(HttpContext context, string customerId, Sequencer sequencer, Database database,
        TimeProvider time)
    {
        var plane = Http.Plane(context);
        var (input, badInput) = ScopeInput.FromQuery(context.Request.Query);
        if (badInput is not null)
        {
            await Responses.WriteError(context, badInput);
            return;
        }
        var now = time.GetUtcNow();
        var (scope, badScope) = Scope.Parse(input! with { Granularity = input!.Granularity ?? "day" }, now);
        if (badScope is not null)
        {
            await Responses.WriteError(context, badScope);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        using var snapshot = connection.BeginTransaction(deferred: true); // one snapshot, one set of locks (as derive)
        var totals = CustomerTotals.Read(connection, plane.Id, customerId, head.CheckpointSize);
        if (totals is null)
        {
            await Responses.WriteError(context, BalanceEndpoints.CustomerNotFound(customerId));
            return;
        }
        var (window, breakdown, error) = BalanceEndpoints.Resolve(connection, totals, scope!, now);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var result = new CompareWindows
        {
            CustomerId = customerId,
            Granularity = input.Granularity ?? "day",
            Window = BalanceEndpoints.Describe(window!),
            Checkpoint = DeltaRows.Current(head),
            Windows = WithRoots(connection, totals.CustomerKey, window!, breakdown!),
        };
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeCompareWindows);
    }

    /// <summary>One pass over the window's item hashes in sequence order, one RFC 6962 root per bucket.</summary>
    private static List<BalanceBucket> WithRoots(SqliteConnection connection, long customerKey, ScopeWindow window,
        List<BalanceBucket> buckets)
    {
        var roots = new List<string>(buckets.Count);
        using var command = WindowCommand(connection, customerKey, window.FromSequence, window.ToSequence);
        using var reader = command.ExecuteReader();
        var pending = reader.Read();
        foreach (var bucket in buckets)
        {
            var range = new CompactRange();
            var end = bucket.FirstSequenceNumber + bucket.Count;
            while (pending && reader.GetInt64(0) < end)
            {
                range.Append((byte[])reader[4]);
                pending = reader.Read();
            }
            roots.Add(DeltaRows.Hex(range.Size == 0 ? Rfc6962.EmptyRoot() : range.Root()));
        }
        return buckets.Select((b, i) => b with { Root = roots[i] }).ToList();
    }
}
