using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Balances;

/// <summary>Derive (all time or scoped) and the scope limits.</summary>
internal static class BalanceEndpoints
{
    public static void MapBalances(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/balance/derive/{customerId}", Derive).WithName("DeriveBalance")
            .Produces<Envelope<DeriveResult>>().Produces<ErrorEnvelope>(404).Produces<ErrorEnvelope>(400);
        app.MapGet("/api/v1/balance/limits", (Func<HttpContext, Task>)GetLimits).WithName("GetBalanceLimits")
            .Produces<Envelope<ScopeLimits>>();
    }

    private static Task GetLimits(HttpContext context) =>
        Responses.Write(context, 200, new ScopeLimits
        {
            MaxScopeMonths = Limits.ScopeMonthsMax,
            MaxLastNDays = Limits.ScopeLastNDaysMax,
            MaxRetentionDays = null,
            MaxBreakdownBuckets = Limits.ScopeBucketsMax,
            MaxDeriveRows = Limits.DeriveRowsMax,
            MaxCompareRecords = Limits.CompareRecordsMax,
            MaxCompareBodyBytes = Limits.CompareBodyBytesMax,
            MaxCompareDiscrepancies = Limits.CompareDiscrepanciesMax,
            MaxGapRanges = Limits.GapRangesMax,
        }, WireJson.Default.EnvelopeScopeLimits);

    private static async Task Derive(HttpContext context, string customerId, Sequencer sequencer, Database database,
        TimeProvider time)
    {
        var plane = Http.Plane(context);
        var (input, badInput) = ScopeInput.FromQuery(context.Request.Query);
        var (limit, badLimit) = Http.QueryNumber(context, "limit", Limits.DeriveRowsDefault, 1, Limits.DeriveRowsMax);
        var (offset, badOffset) = Http.QueryNumber(context, "offset", 0, 0, long.MaxValue);
        if ((badInput ?? badLimit ?? badOffset) is { } bad)
        {
            await Responses.WriteError(context, bad);
            return;
        }
        var now = time.GetUtcNow();
        var (scope, badScope) = Scope.Parse(input!, now);
        if (badScope is not null)
        {
            await Responses.WriteError(context, badScope);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        // One read transaction for the whole answer: one snapshot for totals, window and rows, and one set of file
        // locks instead of one per query (a scoped derive with a day breakdown runs hundreds of small queries, and each
        // autocommit query took SQLite's WAL locks and a stat again: about 2 syscalls per query).
        using var snapshot = connection.BeginTransaction(deferred: true);
        var totals = CustomerTotals.Read(connection, plane.Id, customerId, head.CheckpointSize);
        if (totals is null)
        {
            await Responses.WriteError(context, CustomerNotFound(customerId));
            return;
        }
        var (window, breakdown, error) = Resolve(connection, totals, scope!, now);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        // Sequence numbers are contiguous from 0, so an offset is a sequence number: no OFFSET scan.
        var from = window!.FromSequence + Math.Min(offset, window.Count);
        var deltas = DeltaRows.ReadCustomerRange(connection, totals.CustomerKey, from,
            Math.Min(window.ToSequence, from + limit), newestFirst: false, head);
        var result = new DeriveResult
        {
            CustomerId = customerId,
            CustomerReference = Deltas.CustomerReference.Format(totals.Reference),
            ComputedBalance = window.Balance,
            Balance = window.Balance,
            DeltasCount = window.Count,
            DeltaCount = window.Count,
            LastVerifiedIndex = totals.LastVerifiedIndex,
            LastVerifiedSequenceNumber = totals.VerifiedCount > 0 ? totals.VerifiedCount - 1 : null,
            LatestReceiptId = totals.LatestVerifiedReceipt is { } r ? DeltaRows.Hex(r) : null,
            PendingCount = totals.AcceptedCount - totals.VerifiedCount,
            PendingAmount = totals.AcceptedBalance - totals.VerifiedBalance,
            Window = Describe(window),
            Checkpoint = DeltaRows.Current(head),
            Breakdown = breakdown,
            Deltas = deltas,
            Pagination = new OffsetPagination { Limit = (int)limit, Offset = offset, Total = window.Count },
        };
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeDeriveResult);
    }

    /// <summary>Resolves a parsed scope for one customer, with its breakdown when a granularity is set.</summary>
    public static (ScopeWindow? Window, List<BalanceBucket>? Breakdown, ApiError? Error) Resolve(
        SqliteConnection connection, CustomerTotals totals, Scope scope, DateTimeOffset now)
    {
        var (window, error) = ScopeWindow.Resolve(connection, totals, scope);
        if (error is not null)
        {
            return (null, null, error);
        }
        if (scope.Granularity is not { } granularity)
        {
            return (window, null, null);
        }
        var (buckets, tooWide) = window!.Breakdown(connection, totals.CustomerKey, totals.AcceptedCount, granularity, totals.FirstAtUnixMs, now);
        if (tooWide is not null)
        {
            return (null, null, tooWide);
        }
        var breakdown = buckets!.Select(b => new BalanceBucket
        {
            Start = Timestamps.Format(b.StartMs),
            End = Timestamps.Format(b.EndMs),
            FirstSequenceNumber = b.From.Count,
            Count = b.To.Count - b.From.Count,
            Net = b.To.Balance - b.From.Balance,
            EndingBalance = scope.StartingBalance + (b.To.Balance - window.Opening.Balance),
        }).ToList();
        return (window, breakdown, null);
    }

    public static BalanceWindow Describe(ScopeWindow window) => new()
    {
        Scope = window.Scope.Name,
        StartDate = window.StartMs is { } s && window.Scope.IsTimeWindow ? Timestamps.Format(s) : null,
        EndDate = window.EndMs is { } e ? Timestamps.Format(e) : null,
        Period = window.Scope.Period,
        StartingCheckpoint = window.Scope.Checkpoint,
        StartingCheckpointType = window.Scope.CheckpointType,
        FromSequenceNumber = window.FromSequence,
        ToSequenceNumber = window.ToSequence,
        StartingBalance = window.Scope.StartingBalance,
        OpeningBalance = window.Opening.Balance,
        Net = window.Net,
    };

    public static ApiError CustomerNotFound(string customerId) =>
        new("CUSTOMER_NOT_FOUND", $"no customer '{customerId}' in this environment (customers appear with their first delta)",
            "customerId");
}
