using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Balances;

/// <summary>A customer's verified running totals just before a point: deltas counted and their balance.</summary>
internal readonly record struct BalancePoint(long Count, Amount Balance);

/// <summary>One bucket of a granularity breakdown: [StartMs, EndMs) and the points at its two ends.</summary>
internal readonly record struct ScopeBucket(long StartMs, long EndMs, BalancePoint From, BalancePoint To);

/// <summary>
/// A <see cref="Scope"/> resolved against one customer's verified record: the sequence window
/// [<see cref="FromSequence"/>, <see cref="ToSequence"/>) and the running totals at both ends. Every number comes
/// from seeks on the running totals stored with each record (records_by_customer), never from a scan: the balance
/// at time T is the balance after the customer's last verified record accepted before T, because acceptance times
/// never go backwards (per customer, time order = sequence order = log order).
/// </summary>
internal sealed record ScopeWindow(Scope Scope, BalancePoint Opening, BalancePoint Closing, long? StartMs, long? EndMs)
{
    public long FromSequence => Opening.Count;

    public long ToSequence => Closing.Count;

    public long Count => Closing.Count - Opening.Count;

    /// <summary>The sum of the window's verified deltas.</summary>
    public Amount Net => Closing.Balance - Opening.Balance;

    /// <summary><c>startingBalance</c> plus the window's net: the answer's <c>computedBalance</c>.</summary>
    public Amount Balance => Scope.StartingBalance + Net;

    public static (ScopeWindow? Window, ApiError? Error) Resolve(SqliteConnection connection, CustomerTotals totals,
        Scope scope)
    {
        var verified = new BalancePoint(totals.VerifiedCount, totals.VerifiedBalance);
        var opening = new BalancePoint(0, Amount.Zero);
        var closing = verified;
        long? startMs = null, endMs = null;
        if (scope.Checkpoint is { } checkpoint)
        {
            var (found, error) = FindCheckpoint(connection, totals, checkpoint, scope.CheckpointType!);
            if (error is not null)
            {
                return (null, error);
            }
            opening = found!.Value.Point;
            startMs = found.Value.AcceptedAtMs;
        }
        else if (scope.Start is { } start)
        {
            startMs = start.ToUnixTimeMilliseconds();
            endMs = scope.End!.Value.ToUnixTimeMilliseconds();
            opening = Min(Before(connection, totals.CustomerKey, totals.AcceptedCount, startMs.Value), verified);
            closing = Min(Before(connection, totals.CustomerKey, totals.AcceptedCount, endMs.Value), verified);
        }
        if (opening.Count > closing.Count)
        {
            opening = closing; // A checkpoint not yet verified: the window is empty, not negative.
        }
        return (new ScopeWindow(scope, opening, closing, startMs, endMs), null);
    }

    /// <summary>
    /// The breakdown by <paramref name="granularity"/>: one search per bucket boundary. Open windows (all time, after a
    /// checkpoint) start at the bucket holding their first instant and end with the bucket holding
    /// <paramref name="now"/>. More than <see cref="Limits.ScopeBucketsMax"/> buckets is <c>SCOPE_TOO_WIDE</c>.
    /// </summary>
    public (List<ScopeBucket>? Buckets, ApiError? Error) Breakdown(SqliteConnection connection, long customerKey,
        long count, Granularity granularity, long firstAtMs, DateTimeOffset now)
    {
        var start = StartMs is { } s && Scope.IsTimeWindow
            ? DateTimeOffset.FromUnixTimeMilliseconds(s)
            : Floor(DateTimeOffset.FromUnixTimeMilliseconds(StartMs ?? firstAtMs), granularity);
        var end = EndMs is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : Next(Floor(now, granularity), granularity);
        var boundaries = new List<DateTimeOffset> { start };
        for (var b = Next(Floor(start, granularity), granularity); b < end; b = Next(b, granularity))
        {
            if (boundaries.Count >= Limits.ScopeBucketsMax)
            {
                return (null, new ApiError("SCOPE_TOO_WIDE", $"Scope window is too wide for a single request: a " +
                    $"breakdown has at most {Limits.ScopeBucketsMax} buckets; use a coarser granularity or a " +
                    "narrower window", "granularity"));
            }
            boundaries.Add(b);
        }
        boundaries.Add(end);
        var buckets = new List<ScopeBucket>(boundaries.Count - 1);
        var from = Opening;
        for (var i = 1; i < boundaries.Count; i++)
        {
            var to = i == boundaries.Count - 1
                ? Closing
                : Clamp(Before(connection, customerKey, count, boundaries[i].ToUnixTimeMilliseconds()));
            buckets.Add(new ScopeBucket(boundaries[i - 1].ToUnixTimeMilliseconds(), boundaries[i].ToUnixTimeMilliseconds(),
                from, to));
            from = to;
        }
        return (buckets, null);
    }

    private BalancePoint Clamp(BalancePoint point) =>
        point.Count < Opening.Count ? Opening : point.Count > Closing.Count ? Closing : point;

    private static BalancePoint Min(BalancePoint a, BalancePoint b) => a.Count <= b.Count ? a : b;

    public static DateTimeOffset Floor(DateTimeOffset time, Granularity granularity)
    {
        var day = new DateTimeOffset(time.UtcDateTime.Date, TimeSpan.Zero);
        return granularity switch
        {
            Granularity.Day => day,
            Granularity.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            _ => new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public static DateTimeOffset Next(DateTimeOffset boundary, Granularity granularity) => granularity switch
    {
        Granularity.Day => boundary.AddDays(1),
        Granularity.Week => boundary.AddDays(7),
        _ => boundary.AddMonths(1),
    };

    /// <summary>
    /// The running totals after the customer's last record accepted strictly before <paramref name="unixMs"/>
    /// (verified or not: callers clamp to the verified point). <paramref name="count"/> is the customer's number of
    /// accepted deltas (sequence numbers are 0..count-1).
    /// </summary>
    /// <remarks>
    /// A binary search over the customer's sequence numbers on records_by_customer, not a seek on a time index:
    /// acceptance times never go backwards per customer, so "accepted before T" holds for a prefix of the sequence.
    /// Each probe is one seek (the record holding a sequence number) and settles that record's whole range, so a
    /// lookup costs at most about log2(count) seeks. A (customer, accepted_at) index would make it one seek but cost
    /// every delta a random b-tree insert on the write path, the sequencer's most expensive operation.
    /// </remarks>
    public static BalancePoint Before(SqliteConnection connection, long customerKey, long count, long unixMs)
    {
        var command = connection.Prepared("""
            SELECT first_seq, delta_count, balance_after, accepted_at FROM records
            WHERE customer = $k AND first_seq <= $s ORDER BY first_seq DESC LIMIT 1
            """);
        var k = command.Parameters.Add("$k", SqliteType.Integer);
        var s = command.Parameters.Add("$s", SqliteType.Integer);
        k.Value = customerKey;
        // Invariant: every sequence number below lo is in a record accepted before T; none at or above hi is.
        long lo = 0, hi = count;
        var best = default(BalancePoint);
        while (lo < hi)
        {
            s.Value = lo + (hi - lo) / 2;
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw new InvalidOperationException($"customer {customerKey} has no record holding sequence {s.Value}");
            }
            var firstSeq = reader.GetInt64(0);
            var end = firstSeq + reader.GetInt64(1);
            if (reader.GetInt64(3) < unixMs)
            {
                best = new BalancePoint(end, ParseStored(reader.GetString(2)));
                lo = end;
            }
            else
            {
                hi = firstSeq;
            }
        }
        return best;
    }

    private static ((BalancePoint Point, long AcceptedAtMs)?, ApiError?) FindCheckpoint(SqliteConnection connection,
        CustomerTotals totals, string checkpoint, string type)
    {
        using var command = connection.CreateCommand();
        const string Columns = "SELECT first_seq + delta_count, balance_after, accepted_at FROM records ";
        if (type == Scope.RecordIdType)
        {
            if (RecordIds.TryParse(checkpoint) is not { } id)
            {
                return (null, new ApiError("INVALID_CHECKPOINT", "a recordId checkpoint is rec_<number>",
                    "startingCheckpoint"));
            }
            command.CommandText = Columns + "WHERE id = $id AND customer = $k";
            command.Parameters.AddWithValue("$id", id);
        }
        else
        {
            if (checkpoint.Length != 66 || !checkpoint.StartsWith("0x", StringComparison.Ordinal) ||
                !IsLowerOrUpperHex(checkpoint.AsSpan(2)))
            {
                return (null, new ApiError("INVALID_CHECKPOINT", "a proofRoot checkpoint is 0x followed by 64 hex digits",
                    "startingCheckpoint"));
            }
            // No receipt index (receipts are looked up rarely): walk the customer's records newest first, so the
            // usual checkpoint (the latestReceiptId of an earlier derive) is found at once.
            command.CommandText = Columns + "WHERE customer = $k AND receipt = $r ORDER BY first_seq DESC LIMIT 1";
            command.Parameters.AddWithValue("$r", Convert.FromHexString(checkpoint.AsSpan(2)));
        }
        command.Parameters.AddWithValue("$k", totals.CustomerKey);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            var message = type == Scope.RecordIdType
                ? $"no record '{checkpoint}' of customer '{totals.CustomerId}'"
                : $"no receipt '{checkpoint}' of customer '{totals.CustomerId}': a proofRoot checkpoint is a receiptId " +
                  "(e.g. latestReceiptId); period-checkpoint proof roots (POST /checkpoint) arrive with the checkpoint " +
                  "issue and are not found yet";
            return (null, new ApiError("CHECKPOINT_NOT_FOUND", message, "startingCheckpoint"));
        }
        return ((new BalancePoint(reader.GetInt64(0), ParseStored(reader.GetString(1))), reader.GetInt64(2)), null);
    }

    private static bool IsLowerOrUpperHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static Amount ParseStored(string text) =>
        Amount.TryParse(text, out var amount)
            ? amount
            : throw new InvalidOperationException($"stored balance '{text}' is not a decimal");
}
