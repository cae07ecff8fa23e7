using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Proofs;
using Tallystick.Server.Balances;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;
using Tallystick.Wire;

namespace Tallystick.Server.Checkpoints;

/// <summary>
/// Period checkpoints: <c>POST /api/v1/balance/checkpoint</c> commits a root over one customer's verified deltas in
/// a window (or over every customer active in a global index window), signs the statement with the log key and
/// anchors it in the log as a 0x02 entry, in the sequencer's transaction. <c>GET …/checkpoints</c> lists them.
/// </summary>
internal static class CheckpointEndpoints
{
    /// <summary>Deltas one checkpoint may cover, and deltas a global index window may span.</summary>
    public const long WindowDeltasMax = 1_000_000;

    /// <summary>Customers one request without <c>customerId</c> may checkpoint.</summary>
    public const int CustomersPerRequestMax = 1_000;

    /// <summary>Largest request body.</summary>
    public const int BodyBytesMax = 4096;


    public static void MapCheckpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/balance/checkpoint", Create).WithName("CreateCheckpoint")
            .Produces<Envelope<PeriodCheckpointResult>>(201).Produces<Envelope<PeriodCheckpointList>>(201)
            .Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404);
        app.MapGet("/api/v1/balance/checkpoints", List).WithName("ListCheckpoints")
            .Produces<Envelope<PeriodCheckpointList>>();
        app.MapGet("/api/v1/balance/checkpoints/{checkpointId}", Get).WithName("GetCheckpoint")
            .Produces<Envelope<PeriodCheckpointResult>>().Produces<ErrorEnvelope>(404);
        app.MapGet("/api/v1/balance/receipt/{customerId}", Receipt).WithName("GetReceipt")
            .Produces<Envelope<ReceiptResult>>().Produces<ErrorEnvelope>(404);
        app.MapGet("/api/v1/balance/invoice-proof/{customerId}", Receipt).WithName("GetInvoiceProof")
            .Produces<Envelope<ReceiptResult>>().Produces<ErrorEnvelope>(404);
    }

    /// <summary>A parsed request: a customer (or all), and an index window, a time window, or neither.</summary>
    private sealed record Request(string? CustomerId, long? FromIndex, long? ToIndex, Scope? Time);

    /// <summary>One customer's resolved window, read from the verified record.</summary>
    private sealed record Window(long CustomerKey, string CustomerId, byte[] Reference, long FromSeq, long ToSeq,
        long FromIndex, long ToIndex, Amount Starting, Amount Ending, byte[] Root);

    private static async Task Create(HttpContext context, Sequencer sequencer, Database database, LogIdentity log,
        TallyOptions options, TimeProvider time)
    {
        var plane = Http.Plane(context);
        var (body, readError) = await Http.ReadJsonBody(context, BodyBytesMax);
        var (request, error) = readError is null ? Parse(body!, time.GetUtcNow()) : (null, readError);
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var head = sequencer.Head;
        List<Window> windows;
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            (windows, error) = Resolve(connection, transaction, plane.Id, request!, head.CheckpointSize);
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var single = request!.CustomerId is not null;
        var item = WorkItem.ForAppend(plane, append => Anchor(append, plane.Id, windows, log, options, context.Request,
            sequencer, results =>
            {
                var status = results.TrueForAll(r => r.Idempotent == true) ? 200 : 201;
                return single
                    ? new Answer(status, JsonSerializer.SerializeToUtf8Bytes(
                        new Envelope<PeriodCheckpointResult>(true, results[0]), WireJson.Default.EnvelopePeriodCheckpointResult))
                    : new Answer(status, JsonSerializer.SerializeToUtf8Bytes(
                        new Envelope<PeriodCheckpointList>(true, new PeriodCheckpointList { Checkpoints = results, Count = results.Count }),
                        WireJson.Default.EnvelopePeriodCheckpointList));
            }));
        await DeltaEndpoints.Answer(context, sequencer, item);
    }

    /// <summary>
    /// <c>GET /receipt/{customerId}</c> (unscoped: every verified delta) and <c>GET /invoice-proof/{customerId}</c>
    /// (scoped by period/timePreset/startDate/endDate): the window's checkpoint — found, or created once: the same
    /// window always answers the same proof root — with the window's rows and the links to verify it.
    /// </summary>
    private static async Task Receipt(HttpContext context, string customerId, Sequencer sequencer, Database database,
        LogIdentity log, TallyOptions options, TimeProvider time)
    {
        var plane = Http.Plane(context);
        var query = context.Request.Query;
        var (limit, badLimit) = Http.QueryNumber(context, "limit", Limits.DeriveRowsDefault, 1, Limits.DeriveRowsMax);
        var (offset, badOffset) = Http.QueryNumber(context, "offset", 0, 0, long.MaxValue);
        ApiError? error = badLimit ?? badOffset;
        if (!EmitParser.IsValidCustomerId(customerId))
        {
            error ??= new ApiError("INVALID_CUSTOMER_ID",
                $"customerId must match [A-Za-z0-9_.:-]{{1,{Limits.CustomerIdCharsMax}}}", "customerId");
        }
        Scope? scope = null;
        if (error is null)
        {
            var input = new ScopeInput(query["period"].FirstOrDefault(), query["timePreset"].FirstOrDefault(),
                query["startDate"].FirstOrDefault(), query["endDate"].FirstOrDefault());
            (scope, error) = Scope.Parse(input, time.GetUtcNow());
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var request = new Request(customerId, null, null, scope is { IsTimeWindow: true } ? scope : null);
        var head = sequencer.Head;
        List<Window> windows;
        List<DeltaRow> rows;
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            (windows, error) = Resolve(connection, transaction, plane.Id, request, head.CheckpointSize);
            rows = error is null ? WindowRows(connection, windows[0], offset, limit, head) : [];
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var period = scope?.Period ?? (scope is { IsTimeWindow: true } ? "custom" : Scope.AllTime);
        var verifyBase = VerifyBase(options, context.Request);
        var item = WorkItem.ForAppend(plane, append => Anchor(append, plane.Id, windows, log, options, context.Request,
            sequencer, results =>
            {
                var checkpoint = results[0];
                var receipt = new ReceiptResult
                {
                    CustomerId = customerId,
                    Period = period,
                    GeneratedAt = checkpoint.CreatedAt,
                    CheckpointId = checkpoint.CheckpointId,
                    Status = checkpoint.Status,
                    ProofRoot = checkpoint.ProofRoot,
                    ItemsRoot = checkpoint.ProofRoot,
                    ReceiptId = checkpoint.ProofRoot,
                    ProofToken = checkpoint.ProofToken,
                    DeltasCount = checkpoint.DeltaCount,
                    DeltaCount = checkpoint.DeltaCount,
                    StartingBalance = checkpoint.StartingBalance,
                    FinalBalance = checkpoint.EndingBalance,
                    EndingBalance = checkpoint.EndingBalance,
                    FromSequence = checkpoint.FromSequence,
                    ToSequence = checkpoint.ToSequence,
                    VerifyUrl = verifyBase + "/verify/" + checkpoint.ProofRoot,
                    VerificationApiUrl = checkpoint.VerificationApiUrl!,
                    VerificationExplorerUrl = verifyBase + "/verify/" + checkpoint.ProofRoot,
                    Deltas = rows,
                    Pagination = new OffsetPagination { Limit = (int)limit, Offset = offset, Total = checkpoint.DeltaCount },
                };
                return new Answer(200, JsonSerializer.SerializeToUtf8Bytes(new Envelope<ReceiptResult>(true, receipt),
                    WireJson.Default.EnvelopeReceiptResult));
            }));
        await DeltaEndpoints.Answer(context, sequencer, item);
    }

    /// <summary>The window's rows [from + offset, from + offset + limit), in sequence order.</summary>
    private static List<DeltaRow> WindowRows(SqliteConnection connection, Window window,
        long offset, long limit, LogHead head)
    {
        var from = Math.Min(window.ToSeq, window.FromSeq + offset);
        return DeltaRows.ReadCustomerRange(connection, window.CustomerKey, from, Math.Min(window.ToSeq, from + limit),
            newestFirst: false, head);
    }

    private static (Request? Request, ApiError? Error) Parse(byte[] body, DateTimeOffset now)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, new ApiError("INVALID_BODY", "the body must be a JSON object"));
            }
            string? customerId = null;
            long? from = null, to = null;
            string? period = null, preset = null, startDate = null, endDate = null;
            foreach (var member in document.RootElement.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "customerId" when member.Value.ValueKind == JsonValueKind.String:
                        customerId = member.Value.GetString();
                        break;
                    case "fromIndex" or "toIndex" when member.Value.TryGetInt64(out var index) && index >= 0:
                        if (member.Name == "fromIndex")
                        {
                            from = index;
                        }
                        else
                        {
                            to = index;
                        }
                        break;
                    case "period" or "timePreset" or "startDate" or "endDate" when member.Value.ValueKind == JsonValueKind.String:
                        var value = member.Value.GetString();
                        _ = member.Name switch
                        {
                            "period" => period = value,
                            "timePreset" => preset = value,
                            "startDate" => startDate = value,
                            _ => endDate = value,
                        };
                        break;
                    case "customerId" or "fromIndex" or "toIndex" or "period" or "timePreset" or "startDate" or "endDate":
                        return (null, new ApiError("VALIDATION_ERROR",
                            $"'{member.Name}' must be {(member.Name is "fromIndex" or "toIndex" ? "a non-negative integer" : "a string")}",
                            member.Name));
                    default:
                        return (null, new ApiError("UNKNOWN_FIELD", $"unknown member '{member.Name}'", member.Name));
                }
            }
            if (customerId is not null && !EmitParser.IsValidCustomerId(customerId))
            {
                return (null, new ApiError("INVALID_CUSTOMER_ID",
                    $"customerId must match [A-Za-z0-9_.:-]{{1,{Limits.CustomerIdCharsMax}}}", "customerId"));
            }
            if (from > to)
            {
                return (null, new ApiError("VALIDATION_ERROR", "fromIndex must not exceed toIndex", "fromIndex"));
            }
            Scope? scope = null;
            if ((period ?? preset ?? startDate ?? endDate) is not null)
            {
                if (from is not null || to is not null)
                {
                    return (null, new ApiError("INVALID_SCOPE_COMBINATION",
                        "give either a global index window (fromIndex/toIndex) or a time window, not both", "fromIndex"));
                }
                ApiError? scopeError;
                (scope, scopeError) = Scope.Parse(new ScopeInput(period, preset, startDate, endDate), now);
                if (scopeError is not null)
                {
                    return (null, scopeError);
                }
            }
            return (new Request(customerId, from, to, scope is { IsTimeWindow: true } ? scope : null), null);
        }
        catch (JsonException)
        {
            return (null, new ApiError("MALFORMED_JSON", "the body is not valid JSON"));
        }
    }

    private static (List<Window> Windows, ApiError? Error) Resolve(SqliteConnection connection, SqliteTransaction transaction,
        long plane, Request request, long checkpointSize)
    {
        var from = request.FromIndex ?? 0;
        var to = request.ToIndex ?? long.MaxValue - 1;
        if (request.FromIndex is not null && request.ToIndex is not null && to - from + 1 > WindowDeltasMax)
        {
            return ([], new ApiError("SCOPE_TOO_WIDE",
                $"a checkpoint window spans at most {WindowDeltasMax:N0} global indices; split it", "toIndex"));
        }
        var customer = request.CustomerId is { } wanted ? CustomerTotals.Read(connection, plane, wanted, checkpointSize) : null;
        if (request.CustomerId is not null && customer is null)
        {
            return ([], new ApiError("CUSTOMER_NOT_FOUND", $"no customer '{request.CustomerId}' in this environment",
                "customerId"));
        }
        if (request.Time is { } time)
        {
            // Acceptance times never go backwards, so a time window is a global index window.
            if (IndexWindowOf(connection, transaction, time.Start!.Value.ToUnixTimeMilliseconds(),
                    time.End!.Value.ToUnixTimeMilliseconds()) is not { } indices)
            {
                return ([], new ApiError("EMPTY_WINDOW", "no delta was accepted in the time window", "startDate"));
            }
            (from, to) = indices;
        }
        List<(long Key, string Id, byte[] Reference)> customers;
        if (customer is not null)
        {
            customers = [(customer.CustomerKey, customer.CustomerId, customer.Reference)];
        }
        else
        {
            if ((request.FromIndex is null || request.ToIndex is null) && request.Time is null)
            {
                return ([], new ApiError("MISSING_FIELD",
                    "without customerId, give fromIndex and toIndex or a time window: every customer active in it is " +
                    "checkpointed", "fromIndex"));
            }
            customers = ActiveCustomers(connection, transaction, plane, from, to, checkpointSize);
            if (customers.Count > CustomersPerRequestMax)
            {
                return ([], new ApiError("SCOPE_TOO_WIDE",
                    $"{customers.Count:N0} customers are active in the window; at most {CustomersPerRequestMax:N0} per request",
                    "toIndex"));
            }
        }
        var windows = new List<Window>(customers.Count);
        foreach (var (key, id, reference) in customers)
        {
            var verified = CustomerTotals.ReadTotals(connection, key, id, reference, 0, checkpointSize).VerifiedCount;
            var (fromSeq, toSeq) = SequenceWindow(connection, transaction, key, from, to, verified);
            if (toSeq - fromSeq > WindowDeltasMax)
            {
                return ([], new ApiError("SCOPE_TOO_WIDE",
                    $"the window holds {toSeq - fromSeq:N0} deltas of '{id}'; at most {WindowDeltasMax:N0} per checkpoint",
                    "toIndex"));
            }
            if (toSeq > fromSeq)
            {
                windows.Add(Read(connection, transaction, key, id, reference, fromSeq, toSeq));
            }
        }
        if (windows.Count == 0)
        {
            return ([], new ApiError("EMPTY_WINDOW",
                "no verified delta in the window (deltas still QUEUED or PROCESSING are not checkpointed)", "toIndex"));
        }
        return (windows, null);
    }

    /// <summary>
    /// The global index window [from, to] of the deltas accepted in [startMs, endMs), or null when none was:
    /// records are numbered in acceptance order (ids contiguous from 1), so two binary searches over their rowids.
    /// </summary>
    private static (long From, long To)? IndexWindowOf(SqliteConnection connection, SqliteTransaction transaction,
        long startMs, long endMs)
    {
        using var at = connection.CreateCommand();
        at.Transaction = transaction;
        at.CommandText = "SELECT accepted_at, first_delta, delta_count FROM records WHERE id = $id";
        var id = at.Parameters.AddWithValue("$id", 0L);
        (long At, long First, long Count) Row(long recordId)
        {
            id.Value = recordId;
            using var reader = at.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2))
                : throw new InvalidOperationException($"record {recordId} is missing: record ids must be contiguous");
        }
        using var max = connection.CreateCommand();
        max.Transaction = transaction;
        max.CommandText = "SELECT coalesce(max(id), 0) FROM records";
        var last = (long)max.ExecuteScalar()!;
        long FirstAtOrAfter(long ms)
        {
            long lo = 1, hi = last + 1; // the answer is in [lo, hi]; hi = none
            while (lo < hi)
            {
                var mid = lo + (hi - lo) / 2;
                if (Row(mid).At >= ms)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }
            return lo;
        }
        var first = FirstAtOrAfter(startMs);
        var afterEnd = FirstAtOrAfter(endMs);
        if (first >= afterEnd)
        {
            return null;
        }
        var lastRow = Row(afterEnd - 1);
        return (Row(first).First - 1, lastRow.First + lastRow.Count - 2);
    }

    /// <summary>Customers with at least one verified delta whose global index is in [from, to].</summary>
    private static List<(long, string, byte[])> ActiveCustomers(SqliteConnection connection, SqliteTransaction transaction,
        long plane, long from, long to, long checkpointSize)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // The records holding the window's first and last deltas bound a rowid range of records.
        command.CommandText = """
            SELECT c.id, c.customer_id, c.reference FROM customers c
            WHERE c.plane_id = $p AND c.id IN (
                SELECT DISTINCT r.customer FROM records r
                WHERE r.id BETWEEN coalesce((SELECT record FROM deltas WHERE id >= $from ORDER BY id LIMIT 1), 0)
                               AND coalesce((SELECT record FROM deltas WHERE id <= $to ORDER BY id DESC LIMIT 1), -1)
                  AND r.plane_id = $p AND r.leaf_index < $size)
            ORDER BY c.customer_id
            """;
        command.Parameters.AddWithValue("$p", plane);
        command.Parameters.AddWithValue("$size", checkpointSize);
        command.Parameters.AddWithValue("$from", from + 1);
        command.Parameters.AddWithValue("$to", to + 1);
        var customers = new List<(long, string, byte[])>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            customers.Add((reader.GetInt64(0), reader.GetString(1), (byte[])reader[2]));
        }
        return customers;
    }

    /// <summary>
    /// The customer's verified sequence numbers whose global indices lie in [from, to]: a customer's global indices
    /// grow with its sequence numbers, so they form one window [fromSeq, toSeq), found by two seeks over its records.
    /// </summary>
    private static (long From, long To) SequenceWindow(SqliteConnection connection, SqliteTransaction transaction,
        long customer, long from, long to, long verified)
    {
        long First(long index, bool before)
        {
            // The first sequence number whose global index is >= index (before: the last one <= index, plus one).
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = before
                ? "SELECT first_seq + min(delta_count, $i - first_delta + 1) FROM records " +
                  "WHERE customer = $k AND first_delta <= $i ORDER BY first_seq DESC LIMIT 1"
                : "SELECT first_seq + max(0, $i - first_delta) FROM records " +
                  "WHERE customer = $k AND first_delta + delta_count > $i ORDER BY first_seq LIMIT 1";
            command.Parameters.AddWithValue("$k", customer);
            command.Parameters.AddWithValue("$i", index + 1);
            return command.ExecuteScalar() is long seq ? seq : before ? 0 : verified;
        }
        var fromSeq = First(from, before: false);
        var toSeq = Math.Min(verified, to >= long.MaxValue - 1 ? verified : First(to, before: true));
        return (Math.Min(fromSeq, toSeq), toSeq);
    }

    private static Window Read(SqliteConnection connection, SqliteTransaction transaction, long key, string id,
        byte[] reference, long fromSeq, long toSeq)
    {
        using var rows = connection.CreateCommand();
        rows.Transaction = transaction;
        rows.CommandText = "SELECT d.id, d.amount_units, d.item_hash FROM records r " +
            "JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
            "WHERE r.customer = $k AND r.first_seq < $to AND r.first_seq >= coalesce(" +
            "(SELECT max(first_seq) FROM records WHERE customer = $k AND first_seq <= $from), 0) " +
            "AND d.seq >= $from AND d.seq < $to ORDER BY d.seq";
        rows.Parameters.AddWithValue("$k", key);
        rows.Parameters.AddWithValue("$from", fromSeq);
        rows.Parameters.AddWithValue("$to", toSeq);
        var hashes = new List<byte[]>((int)(toSeq - fromSeq));
        long net = 0, firstIndex = -1, lastIndex = -1;
        using (var reader = rows.ExecuteReader())
        {
            while (reader.Read())
            {
                lastIndex = reader.GetInt64(0) - 1;
                firstIndex = firstIndex < 0 ? lastIndex : firstIndex;
                net = checked(net + reader.GetInt64(1));
                hashes.Add((byte[])reader[2]);
            }
        }
        if (hashes.Count != toSeq - fromSeq)
        {
            throw new InvalidOperationException(
                $"customer {key}: sequence window [{fromSeq}, {toSeq}) has {hashes.Count} stored deltas: the store is corrupt");
        }
        var ending = BalanceAfter(connection, transaction, key, toSeq - 1);
        return new Window(key, id, reference, fromSeq, toSeq, firstIndex, lastIndex, ending - Amount.FromUnits(net),
            ending, ProofToken.RootOf(hashes));
    }

    /// <summary>The customer's balance just after sequence number <paramref name="seq"/>, from its record's running total.</summary>
    private static Amount BalanceAfter(SqliteConnection connection, SqliteTransaction transaction, long customer, long seq)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT r.balance_after, (SELECT coalesce(sum(d.amount_units), 0) FROM deltas d
                                     WHERE d.id > r.first_delta + ($s - r.first_seq) AND d.id < r.first_delta + r.delta_count)
            FROM records r WHERE r.customer = $k AND r.first_seq <= $s ORDER BY r.first_seq DESC LIMIT 1
            """;
        command.Parameters.AddWithValue("$k", customer);
        command.Parameters.AddWithValue("$s", seq);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || !Amount.TryParse(reader.GetString(0), out var after))
        {
            throw new InvalidOperationException($"customer {customer}: no running total for sequence {seq}");
        }
        return after - Amount.FromUnits(reader.GetInt64(1));
    }

    /// <summary>Runs on the sequencer thread inside its transaction: one statement and one log entry per window.</summary>
    private static Func<Answer> Anchor(LogAppendContext append, long plane, List<Window> windows, LogIdentity log,
        TallyOptions options, HttpRequest request, Sequencer sequencer, Func<List<PeriodCheckpointResult>, Answer> render)
    {
        var rows = new List<(Stored Row, bool Idempotent)>(windows.Count);
        foreach (var window in windows)
        {
            if (Find(append.Connection, append.Transaction, plane, window) is { } existing)
            {
                rows.Add((existing, true));
                continue;
            }
            var statement = new PeriodCheckpoint(Deltas.CustomerReference.Format(window.Reference), window.FromSeq,
                window.ToSeq, window.Starting, window.Ending, window.Root, append.AcceptedAtUnixMs, append.NextLeafIndex);
            var note = log.Signer.Sign(statement.ToText());
            var leaf = append.AppendEntry(statement.LogEntry());
            using var insert = append.Connection.CreateCommand();
            insert.Transaction = append.Transaction;
            insert.CommandText = """
                INSERT INTO period_checkpoints (plane_id, customer, from_seq, to_seq, starting_balance, ending_balance,
                    proof_root, statement, leaf_index, created_at)
                VALUES ($p, $k, $from, $to, $start, $end, $root, $note, $leaf, $at) RETURNING id
                """;
            insert.Parameters.AddWithValue("$p", plane);
            insert.Parameters.AddWithValue("$k", window.CustomerKey);
            insert.Parameters.AddWithValue("$from", window.FromSeq);
            insert.Parameters.AddWithValue("$to", window.ToSeq);
            insert.Parameters.AddWithValue("$start", window.Starting.ToString());
            insert.Parameters.AddWithValue("$end", window.Ending.ToString());
            insert.Parameters.AddWithValue("$root", window.Root);
            insert.Parameters.AddWithValue("$note", note);
            insert.Parameters.AddWithValue("$leaf", leaf);
            insert.Parameters.AddWithValue("$at", append.AcceptedAtUnixMs);
            var id = (long)insert.ExecuteScalar()!;
            rows.Add((new Stored(id, window.CustomerId, window.FromIndex, window.ToIndex, note, leaf), false));
        }
        var verifyBase = VerifyBase(options, request);
        return () =>
        {
            var head = sequencer.Head;
            return render(rows.Select(r => Render(r.Row, head, verifyBase, r.Idempotent ? true : null)).ToList());
        };
    }

    /// <summary>A stored checkpoint: what rendering needs (the statement carries the rest, signed).</summary>
    private sealed record Stored(long Id, string CustomerId, long FromIndex, long ToIndex, string Note, long LeafIndex);

    private static Stored? Find(SqliteConnection connection, SqliteTransaction transaction, long plane, Window window)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, statement, leaf_index FROM period_checkpoints " +
            "WHERE plane_id = $p AND customer = $k AND from_seq = $from AND to_seq = $to";
        command.Parameters.AddWithValue("$p", plane);
        command.Parameters.AddWithValue("$k", window.CustomerKey);
        command.Parameters.AddWithValue("$from", window.FromSeq);
        command.Parameters.AddWithValue("$to", window.ToSeq);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new Stored(reader.GetInt64(0), window.CustomerId, window.FromIndex, window.ToIndex, reader.GetString(1), reader.GetInt64(2))
            : null;
    }

    private static PeriodCheckpointResult Render(Stored row, LogHead head, string verifyBase, bool? idempotent)
    {
        var split = row.Note.LastIndexOf("\n\n", StringComparison.Ordinal);
        var statement = PeriodCheckpoint.TryParse(row.Note[..(split + 1)])
            ?? throw new InvalidOperationException($"checkpoint {row.Id}: stored statement does not parse");
        var root = "0x" + Convert.ToHexStringLower(statement.ProofRoot);
        return new PeriodCheckpointResult
        {
            CheckpointId = "chk_" + row.Id.ToString(CultureInfo.InvariantCulture),
            Status = head.StatusOf(row.LeafIndex),
            CustomerId = row.CustomerId,
            CustomerReference = statement.CustomerReference,
            ProofRoot = root,
            ProofHash = root,
            MerkleRoot = root,
            ProofToken = ProofToken.Encode(row.Note),
            DeltaCount = statement.DeltaCount,
            FromSequence = statement.FromSequence,
            ToSequence = statement.ToSequence,
            FromIndex = row.FromIndex,
            ToIndex = row.ToIndex,
            StartingBalance = statement.StartingBalance,
            EndingBalance = statement.EndingBalance,
            LogIndex = row.LeafIndex,
            CreatedAt = Timestamps.Format(statement.AnchoredAtUnixMs),
            Idempotent = idempotent,
            VerificationApiUrl = verifyBase + "/api/v1/verify/" + root,
        };
    }

    private static string VerifyBase(TallyOptions options, HttpRequest request) =>
        options.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"{request.Scheme}://{request.Host}";

    private static async Task List(HttpContext context, Sequencer sequencer, Database database, TallyOptions options)
    {
        var plane = Http.Plane(context);
        var (limit, badLimit) = Http.QueryNumber(context, "limit", 50, 1, 1000);
        var (offset, badOffset) = Http.QueryNumber(context, "offset", 0, 0, long.MaxValue);
        if ((badLimit ?? badOffset) is { } bad)
        {
            await Responses.WriteError(context, bad);
            return;
        }
        var customerId = context.Request.Query["customerId"].ToString();
        var head = sequencer.Head;
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        var filter = customerId.Length > 0 ? " AND c.customer_id = $c" : "";
        command.CommandText = $"""
            SELECT p.id, c.customer_id, p.from_seq, p.to_seq, p.customer, p.statement, p.leaf_index, count(*) OVER ()
            FROM period_checkpoints p JOIN customers c ON c.id = p.customer
            WHERE p.plane_id = $p AND p.leaf_index < $size{filter}
            ORDER BY p.id DESC LIMIT $limit OFFSET $offset
            """;
        command.Parameters.AddWithValue("$p", plane.Id);
        command.Parameters.AddWithValue("$c", customerId);
        command.Parameters.AddWithValue("$size", head.SequencedSize);
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$offset", offset);
        var results = new List<PeriodCheckpointResult>();
        long total = 0;
        var verifyBase = VerifyBase(options, context.Request);
        var found = new List<(long Id, string Customer, long From, long To, long Key, string Note, long Leaf)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                found.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                    reader.GetString(5), reader.GetInt64(6)));
                total = reader.GetInt64(7);
            }
        }
        foreach (var f in found)
        {
            var (fromIndex, toIndex) = IndexRange(connection, f.Key, f.From, f.To);
            results.Add(Render(new Stored(f.Id, f.Customer, fromIndex, toIndex, f.Note, f.Leaf), head, verifyBase, null));
        }
        await Responses.Write(context, 200, new PeriodCheckpointList
        {
            Checkpoints = results,
            Count = results.Count,
            Pagination = new OffsetPagination { Limit = (int)limit, Offset = offset, Total = total },
        }, WireJson.Default.EnvelopePeriodCheckpointList);
    }

    private static async Task Get(HttpContext context, string checkpointId, Sequencer sequencer, Database database,
        TallyOptions options)
    {
        var plane = Http.Plane(context);
        var notFound = new ApiError("CHECKPOINT_NOT_FOUND", $"no checkpoint '{checkpointId}' in this environment", "checkpointId");
        if (!checkpointId.StartsWith("chk_", StringComparison.Ordinal) ||
            !long.TryParse(checkpointId.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            await Responses.WriteError(context, notFound);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT c.customer_id, p.from_seq, p.to_seq, p.customer, p.statement, p.leaf_index
            FROM period_checkpoints p JOIN customers c ON c.id = p.customer
            WHERE p.id = $id AND p.plane_id = $p AND p.leaf_index < $size
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$p", plane.Id);
        command.Parameters.AddWithValue("$size", head.SequencedSize);
        Stored? row = null;
        using (var reader = command.ExecuteReader())
        {
            if (reader.Read())
            {
                var (fromIndex, toIndex) = IndexRange(connection, reader.GetInt64(3), reader.GetInt64(1), reader.GetInt64(2));
                row = new Stored(id, reader.GetString(0), fromIndex, toIndex, reader.GetString(4), reader.GetInt64(5));
            }
        }
        if (row is null)
        {
            await Responses.WriteError(context, notFound);
            return;
        }
        await Responses.Write(context, 200, Render(row, head, VerifyBase(options, context.Request), null),
            WireJson.Default.EnvelopePeriodCheckpointResult);
    }

    /// <summary>Global indices of the first and last delta of a customer's sequence window.</summary>
    private static (long From, long To) IndexRange(SqliteConnection connection, long customer, long fromSeq, long toSeq)
    {
        long IndexOf(long seq)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT first_delta + ($s - first_seq) - 1 FROM records " +
                "WHERE customer = $k AND first_seq <= $s ORDER BY first_seq DESC LIMIT 1";
            command.Parameters.AddWithValue("$k", customer);
            command.Parameters.AddWithValue("$s", seq);
            return (long)command.ExecuteScalar()!;
        }
        return (IndexOf(fromSeq), IndexOf(toSeq - 1));
    }
}
