using Microsoft.AspNetCore.Http;
using Tallystick.Server.Balances;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Reconciliation;

/// <summary>
/// Sequence gaps (reference §2.12): which of a customer's sequence numbers in [fromSequence, toSequence) are not
/// VERIFIED. The sequencer assigns a customer's sequence numbers contiguously from 0 inside the transaction that
/// records them, and "verified" is a prefix of the log, so the answer has at most two ranges — the accepted but
/// unverified tail, then what the ledger does not hold — and costs two index seeks whatever the history length.
/// </summary>
internal static class Gaps
{
    public static async Task Get(HttpContext context, string customerId, Sequencer sequencer, Database database)
    {
        var plane = Http.Plane(context);
        var (from, badFrom) = Http.QueryNumber(context, "fromSequence", 0, 0, long.MaxValue - 1);
        var (to, badTo) = Http.QueryNumber(context, "toSequence", -1, 1, long.MaxValue);
        var (limit, badLimit) = Http.QueryNumber(context, "limit", Limits.GapRangesDefault, 1, Limits.GapRangesMax);
        if ((badFrom ?? badTo ?? badLimit) is { } bad)
        {
            await Responses.WriteError(context, bad);
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
        // Without toSequence: everything the ledger holds for the customer.
        var end = to >= 0 ? to : Math.Max(totals.AcceptedCount, from);
        if (end < from)
        {
            await Responses.WriteError(context, new ApiError("INVALID_QUERY",
                "'toSequence' must not be below 'fromSequence' (the range is [fromSequence, toSequence))", "toSequence"));
            return;
        }
        var ranges = new List<SequenceGap>(2);
        AddRange(ranges, Math.Max(from, totals.VerifiedCount), Math.Min(end, totals.AcceptedCount), "unverified");
        AddRange(ranges, Math.Max(from, totals.AcceptedCount), end, "missing");
        var report = new GapReport
        {
            CustomerId = customerId,
            FromSequence = from,
            ToSequence = end,
            ContiguousThrough = totals.VerifiedCount > 0 ? totals.VerifiedCount - 1 : null,
            VerifiedCount = totals.VerifiedCount,
            AcceptedCount = totals.AcceptedCount,
            Gaps = ranges.Count > limit ? ranges.GetRange(0, (int)limit) : ranges,
            Truncated = ranges.Count > limit,
        };
        await Responses.Write(context, 200, report, WireJson.Default.EnvelopeGapReport);
    }

    private static void AddRange(List<SequenceGap> ranges, long from, long to, string reason)
    {
        if (from < to)
        {
            ranges.Add(new SequenceGap { From = from, To = to, Reason = reason });
        }
    }
}
