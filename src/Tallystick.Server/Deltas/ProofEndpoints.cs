using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Proofs;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;
using Tallystick.Wire;

namespace Tallystick.Server.Deltas;

/// <summary>
/// <c>GET /api/v1/balance/delta/{recordId}/proof</c>: a self-contained proof bundle (docs/proof-spec.md "Proof
/// bundles") for one delta of a record, against the latest published checkpoint. The record and its deltas are read in
/// one read transaction begun after that checkpoint was published; the inclusion proof comes from the shared
/// <see cref="LogReader"/>, whose tiles covering a published checkpoint never change.
/// </summary>
internal static class ProofEndpoints
{
    public static void MapProofs(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/balance/delta/{recordId}/proof", GetProof).WithName("GetDeltaProof")
            .Produces<Envelope<ProofBundle>>()
            .Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404).Produces<ErrorEnvelope>(409);

    private static async Task GetProof(HttpContext context, string recordId, Sequencer sequencer, Database database,
        LogIdentity log, LogReader reader)
    {
        var plane = Http.Plane(context);
        if (RecordIds.TryParse(recordId) is not { } id)
        {
            await Responses.WriteError(context, NotFound(recordId));
            return;
        }
        var (selector, invalid) = ReadSelector(context);
        if (invalid is not null)
        {
            await Responses.WriteError(context, invalid);
            return;
        }
        var head = sequencer.Head;
        ProofBundle? bundle;
        ApiError? error;
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            var query = new ProofQuery(connection, transaction, plane.Id, id, recordId, selector);
            (bundle, error) = Build(query, head, log, reader);
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        await Responses.Write(context, 200, bundle!, WireJson.Default.EnvelopeProofBundle);
    }

    /// <summary>Which delta of the record: by position (<c>?index=</c>, default 0) or by sequence number.</summary>
    private readonly record struct DeltaSelector(long? Index, long? SequenceNumber);

    private sealed record ProofQuery(
        SqliteConnection Connection, SqliteTransaction Transaction, long Plane, long Id, string RecordId, DeltaSelector Selector);

    private sealed record RecordRow(string CustomerId, byte[] Reference, long LeafIndex, byte[] Receipt, long FirstDelta,
        long FirstSeq, int Count, long AcceptedAt);

    private static (DeltaSelector Selector, ApiError? Error) ReadSelector(HttpContext context)
    {
        bool byIndex = context.Request.Query.ContainsKey("index");
        bool bySequence = context.Request.Query.ContainsKey("sequenceNumber");
        if (byIndex && bySequence)
        {
            return (default, new ApiError("INVALID_QUERY", "give either 'index' or 'sequenceNumber', not both", "index"));
        }
        if (bySequence)
        {
            var (sequence, error) = Http.QueryNumber(context, "sequenceNumber", 0, 0, long.MaxValue);
            return (new DeltaSelector(null, sequence), error);
        }
        var (index, indexError) = Http.QueryNumber(context, "index", 0, 0, Limits.BatchDeltasMax - 1);
        return (new DeltaSelector(index, null), indexError);
    }

    private static (ProofBundle? Bundle, ApiError? Error) Build(ProofQuery query, LogHead head, LogIdentity log,
        LogReader reader)
    {
        if (ReadRecord(query) is not { } record)
        {
            return (null, NotFound(query.RecordId));
        }
        var (position, outOfRange) = Position(query.Selector, record);
        if (outOfRange is not null)
        {
            return (null, outOfRange);
        }
        if (record.LeafIndex >= head.CheckpointSize)
        {
            return (null, new ApiError("PROOF_NOT_READY",
                $"record {query.RecordId} is {head.StatusOf(record.LeafIndex)}: its log entry (leaf {record.LeafIndex}) " +
                $"is not yet covered by a signed checkpoint (latest size {head.CheckpointSize}); retry shortly",
                "recordId", RetryAfterSeconds: 1));
        }
        var (items, item) = ReadDeltas(query, record, position);
        var proof = reader.InclusionProof(record.LeafIndex, head.CheckpointSize);
        var bundle = ProofBundle.Create(query.RecordId, record.CustomerId, item, items, position,
            new TlogProof(record.LeafIndex, proof, head.CheckpointNote), log.Verifier);
        CheckLog(record, bundle, proof, head);
        return (bundle, null);
    }

    private static (int Position, ApiError? Error) Position(DeltaSelector selector, RecordRow record)
    {
        if (selector.SequenceNumber is { } sequence)
        {
            long last = record.FirstSeq + record.Count - 1;
            return sequence >= record.FirstSeq && sequence <= last
                ? ((int)(sequence - record.FirstSeq), null)
                : (0, new ApiError("INVALID_QUERY",
                    $"'sequenceNumber' must be from {record.FirstSeq} to {last} for this record", "sequenceNumber"));
        }
        long index = selector.Index ?? 0;
        return index < record.Count
            ? ((int)index, null)
            : (0, new ApiError("INVALID_QUERY",
                $"'index' must be from 0 to {record.Count - 1} for this record of {record.Count} delta(s)", "index"));
    }

    private static RecordRow? ReadRecord(ProofQuery query)
    {
        using var command = query.Connection.CreateCommand();
        command.Transaction = query.Transaction;
        command.CommandText = """
            SELECT c.customer_id, c.reference, r.leaf_index, r.receipt, r.first_delta, r.first_seq, r.delta_count,
                   r.accepted_at
            FROM records r JOIN customers c ON c.id = r.customer
            WHERE r.id = $id AND r.plane_id = $plane
            """;
        command.Parameters.AddWithValue("$id", query.Id);
        command.Parameters.AddWithValue("$plane", query.Plane);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new RecordRow(reader.GetString(0), (byte[])reader[1], reader.GetInt64(2), (byte[])reader[3],
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt32(6), reader.GetInt64(7))
            : null;
    }

    // All item hashes of the record (its deltas are contiguous rows from first_delta), and the selected item rebuilt
    // from its stored fields exactly as the sequencer hashed it.
    private static (byte[][] ItemHashes, DeltaItem Item) ReadDeltas(ProofQuery query, RecordRow record, int position)
    {
        using var command = query.Connection.CreateCommand();
        command.Transaction = query.Transaction;
        command.CommandText = """
            SELECT seq, amount_units, reason, reference_id, metadata, salt, item_hash, received_at
            FROM deltas WHERE id BETWEEN $first AND $last ORDER BY id
            """;
        command.Parameters.AddWithValue("$first", record.FirstDelta);
        command.Parameters.AddWithValue("$last", record.FirstDelta + record.Count - 1);
        var hashes = new byte[record.Count][];
        DeltaItem? item = null;
        using var reader = command.ExecuteReader();
        int row = 0;
        for (; reader.Read(); row++)
        {
            hashes[row] = (byte[])reader[6];
            if (row == position)
            {
                item = new DeltaItem(Amount.FromUnits(reader.GetInt64(1)), CustomerReference.Format(record.Reference),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(2), reader.GetInt64(7),
                    reader.IsDBNull(3) ? null : reader.GetString(3), (byte[])reader[5], reader.GetInt64(0));
            }
        }
        if (row != record.Count || item is null)
        {
            throw new InvalidOperationException($"record {query.RecordId} lists {record.Count} deltas, {row} are stored");
        }
        return (hashes, item);
    }

    // The bundle must verify; a mismatch here is a corrupt store or a bug, never the client's fault. The entry the
    // record implies must be included at its index under the signed root, exactly what a verifier checks; log_entries
    // is not read (the proof comes from the tiles, and `tally log verify` checks that entries and tiles agree).
    private static void CheckLog(RecordRow record, ProofBundle bundle, byte[][] proof, LogHead head)
    {
        var entry = ReceiptLogEntry.Create(record.Receipt, record.AcceptedAt);
        if (!string.Equals(Convert.ToBase64String(entry), bundle.LogLeaf, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"record at leaf {record.LeafIndex}: the bundle's log entry is not its receipt root and time");
        }
        var included = MerkleProof.VerifyInclusion(record.LeafIndex, head.CheckpointSize, Rfc6962.HashLeaf(entry), proof,
            head.CheckpointRoot);
        if (!included.IsValid)
        {
            throw new InvalidOperationException(
                $"the stored tiles do not prove leaf {record.LeafIndex} in checkpoint {head.CheckpointSize}: {included.Error}");
        }
    }

    private static ApiError NotFound(string recordId) =>
        new("RECORD_NOT_FOUND", $"no record '{recordId}' in this environment", "recordId");
}
