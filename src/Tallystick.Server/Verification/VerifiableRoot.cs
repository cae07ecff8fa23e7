using Microsoft.Data.Sqlite;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Proofs;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Verification;

/// <summary>One delta under a verifiable root, as stored (enough to rebuild its exact item bytes).</summary>
internal sealed record RootItem(DeltaItem Item, byte[] ItemHash);

/// <summary>
/// What a proof root resolves to: its kind, the tenant it belongs to (for the reveal setting, never for access: the
/// root itself is the capability), the log entry that anchors it, and the deltas and balances it covers.
/// </summary>
/// <param name="Kind"><see cref="VerifiableRoot.ReceiptKind"/> or <see cref="VerifiableRoot.CheckpointKind"/>.</param>
/// <param name="Root">The 32-byte root.</param>
/// <param name="TenantId">The owning tenant.</param>
/// <param name="LeafIndex">The index of the anchoring entry in the transparency log.</param>
/// <param name="LogEntry">The exact entry the log must hold at <paramref name="LeafIndex"/> for this root.</param>
/// <param name="RecordedAtUnixMs">The entry's time.</param>
/// <param name="CustomerReference">The keyed customer reference (20 bytes).</param>
/// <param name="StartingBalance">The customer's balance before the first delta.</param>
/// <param name="EndingBalance">The customer's balance after the last delta.</param>
/// <param name="ItemCount">How many deltas the root covers.</param>
/// <param name="FirstAtUnixMs">When the first delta was accepted.</param>
/// <param name="LastAtUnixMs">When the last delta was accepted.</param>
/// <param name="Items">The deltas, in order (their item hashes are the leaves under the root), or null when there
/// are more than <see cref="VerifiableRoot.AnswerItemsMax"/>.</param>
/// <param name="Statement">For a period checkpoint, its signed statement note (docs/proof-spec.md §9).</param>
internal sealed record ResolvedRoot(string Kind, byte[] Root, long TenantId, long LeafIndex, byte[] LogEntry,
    long RecordedAtUnixMs, byte[] CustomerReference, Amount StartingBalance, Amount EndingBalance, long ItemCount,
    long FirstAtUnixMs, long LastAtUnixMs, IReadOnlyList<RootItem>? Items, string? Statement)
{
    public Amount NetChange => EndingBalance - StartingBalance;
}

/// <summary>
/// Resolves a public proof root, one method per kind: a record's receipt root (<c>records_by_receipt_epoch</c>, one
/// seek per epoch of records) and a period checkpoint's root (<c>period_checkpoints_by_root</c>). Both lookups run for every well-formed root, found
/// or not (no cache, no early exit), so timing shows no more than the lookups do. A root that is both (a checkpoint
/// whose window is exactly one record's deltas gives that record's receipt root) resolves to the checkpoint: it
/// states more (signed balances and sequence window) over the same deltas.
/// </summary>
internal static class VerifiableRoot
{
    public const string ReceiptKind = "receipt";
    public const string CheckpointKind = "checkpoint";

    /// <summary>Deltas an answer lists (records and item hashes); a period checkpoint over more is answered with
    /// its signed summary only, its deltas are then checked through proof bundles.</summary>
    public const int AnswerItemsMax = 10_000;

    private static readonly System.Buffers.SearchValues<char> HexDigits =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Parses <c>0x</c> + 64 hex (either case); null for anything else.</summary>
    public static byte[]? TryParse(string text)
    {
        if (text.Length != 2 + 2 * Rfc6962.HashSize || !text.StartsWith("0x", StringComparison.Ordinal)
            || text.AsSpan(2).ContainsAnyExcept(HexDigits))
        {
            return null;
        }
        return Convert.FromHexString(text.AsSpan(2));
    }

    /// <summary>The root's resolution inside the caller's read transaction, or null when no root of any kind
    /// matches.</summary>
    public static ResolvedRoot? Resolve(SqliteConnection connection, SqliteTransaction transaction, byte[] root)
    {
        var receipt = Receipt(connection, transaction, root);
        var checkpoint = PeriodCheckpointRoot(connection, transaction, root);
        return checkpoint ?? receipt;
    }

    /// <summary>A record's receipt root (docs/proof-spec.md §2): its deltas, anchored by its receipt entry (§4).</summary>
    private static ResolvedRoot? Receipt(SqliteConnection connection, SqliteTransaction transaction, byte[] root)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT p.tenant_id, c.reference, r.leaf_index, r.first_delta, r.delta_count, r.net_units, r.balance_after,
                   r.accepted_at
            FROM records r JOIN customers c ON c.id = r.customer JOIN planes p ON p.id = r.plane_id
            WHERE r.id = $id
            """;
        if (ReceiptIndex.FindRecord(connection, transaction, root) is not { } recordId)
        {
            return null;
        }
        command.Parameters.AddWithValue("$id", recordId);
        long tenantId, leafIndex, firstDelta, netUnits, acceptedAt;
        int count;
        byte[] reference;
        string balanceAfter;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }
            tenantId = reader.GetInt64(0);
            reference = (byte[])reader[1];
            leafIndex = reader.GetInt64(2);
            firstDelta = reader.GetInt64(3);
            count = reader.GetInt32(4);
            netUnits = reader.GetInt64(5);
            balanceAfter = reader.GetString(6);
            acceptedAt = reader.GetInt64(7);
        }
        if (!Amount.TryParse(balanceAfter, out var ending))
        {
            throw new InvalidOperationException($"stored balance '{balanceAfter}' is not a decimal");
        }
        var items = ReadItems(connection, transaction, CustomerReference.Format(reference),
            "SELECT " + ItemColumns + " FROM deltas d WHERE d.id BETWEEN $first AND $last ORDER BY d.id",
            [("$first", firstDelta), ("$last", firstDelta + count - 1)], count);
        CheckRoot(items, root, $"the record at leaf {leafIndex}");
        return new ResolvedRoot(ReceiptKind, root, tenantId, leafIndex, ReceiptLogEntry.Create(root, acceptedAt),
            acceptedAt, reference, ending - Amount.FromUnits(netUnits), ending, count, items[0].Item.ReceivedAtUnixMs,
            items[^1].Item.ReceivedAtUnixMs, items, null);
    }

    /// <summary>
    /// A period checkpoint's root (docs/proof-spec.md §9): the customer's deltas with sequence numbers in its window,
    /// anchored by its 0x02 entry. Count, balances and window come from the signed statement, which must agree with
    /// the row and the root.
    /// </summary>
    private static ResolvedRoot? PeriodCheckpointRoot(SqliteConnection connection, SqliteTransaction transaction,
        byte[] root)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT pl.tenant_id, c.reference, p.customer, p.statement, p.leaf_index, p.created_at
            FROM period_checkpoints p JOIN customers c ON c.id = p.customer JOIN planes pl ON pl.id = p.plane_id
            WHERE p.proof_root = $root ORDER BY p.id LIMIT 1
            """;
        command.Parameters.AddWithValue("$root", root);
        long tenantId, customer, leafIndex, createdAt;
        byte[] reference;
        string note;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }
            tenantId = reader.GetInt64(0);
            reference = (byte[])reader[1];
            customer = reader.GetInt64(2);
            note = reader.GetString(3);
            leafIndex = reader.GetInt64(4);
            createdAt = reader.GetInt64(5);
        }
        var statement = PeriodCheckpoint.TryParse(note[..(note.LastIndexOf("\n\n", StringComparison.Ordinal) + 1)]);
        if (statement is null || !statement.ProofRoot.AsSpan().SequenceEqual(root) || statement.LogIndex != leafIndex
            || statement.AnchoredAtUnixMs != createdAt
            || statement.CustomerReference != CustomerReference.Format(reference))
        {
            throw new InvalidOperationException($"the period checkpoint at leaf {leafIndex} disagrees with its statement");
        }
        (string, long)[] parameters = [("$k", customer), ("$from", statement.FromSequence), ("$to", statement.ToSequence)];
        List<RootItem>? items = null;
        long firstAt, lastAt;
        if (statement.DeltaCount <= AnswerItemsMax)
        {
            items = ReadItems(connection, transaction, statement.CustomerReference,
                "SELECT " + ItemColumns + " " + WindowFrom + " ORDER BY d.seq", parameters, (int)statement.DeltaCount);
            CheckRoot(items, root, $"the period checkpoint at leaf {leafIndex}");
            (firstAt, lastAt) = (items[0].Item.ReceivedAtUnixMs, items[^1].Item.ReceivedAtUnixMs);
        }
        else
        {
            firstAt = ReceivedAt(connection, transaction, customer, statement.FromSequence);
            lastAt = ReceivedAt(connection, transaction, customer, statement.ToSequence - 1);
        }
        return new ResolvedRoot(CheckpointKind, root, tenantId, leafIndex, statement.LogEntry(), createdAt, reference,
            statement.StartingBalance, statement.EndingBalance, statement.DeltaCount, firstAt, lastAt, items, note);
    }

    // A customer's deltas with sequence numbers in [$from, $to): its records from the one holding $from (the same
    // seeks as DeltaRows.CustomerRange).
    private const string WindowFrom =
        "FROM records r JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
        "WHERE r.customer = $k AND r.first_seq < $to AND r.first_seq >= coalesce(" +
        "(SELECT max(first_seq) FROM records WHERE customer = $k AND first_seq <= $from), 0) " +
        "AND d.seq >= $from AND d.seq < $to";

    private const string ItemColumns =
        "d.seq, d.amount_units, d.reason, d.reference_id, d.metadata, d.salt, d.item_hash, d.received_at";

    private static void CheckRoot(List<RootItem> items, byte[] root, string what)
    {
        if (!MerkleTree.RootFromLeafHashes(items.Select(i => i.ItemHash).ToList()).AsSpan().SequenceEqual(root))
        {
            throw new InvalidOperationException($"the item hashes of {what} do not give its root");
        }
    }

    // The acceptance time of the customer's delta with sequence number `seq`: one seek to the record holding it.
    private static long ReceivedAt(SqliteConnection connection, SqliteTransaction transaction, long customer, long seq)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT d.received_at FROM records r JOIN deltas d ON d.id = r.first_delta + ($s - r.first_seq)
            WHERE r.customer = $k AND r.first_seq <= $s ORDER BY r.first_seq DESC LIMIT 1
            """;
        command.Parameters.AddWithValue("$k", customer);
        command.Parameters.AddWithValue("$s", seq);
        return command.ExecuteScalar() as long?
            ?? throw new InvalidOperationException($"customer {customer}: no stored delta with sequence number {seq}");
    }

    // Each item is rebuilt exactly as the sequencer hashed it, and a stored hash that differs is a corrupt store,
    // never shown as verified.
    private static List<RootItem> ReadItems(SqliteConnection connection, SqliteTransaction transaction,
        string customerReference, string sql, (string Name, long Value)[] parameters, int count)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var items = new List<RootItem>(count);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var item = new DeltaItem(Amount.FromUnits(reader.GetInt64(1)), customerReference,
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(2), reader.GetInt64(7),
                reader.IsDBNull(3) ? null : reader.GetString(3), (byte[])reader[5], reader.GetInt64(0));
            var stored = (byte[])reader[6];
            if (!item.ItemHash().AsSpan().SequenceEqual(stored))
            {
                throw new InvalidOperationException(
                    $"the delta with sequence number {item.Sequence} does not hash to its stored item hash");
            }
            items.Add(new RootItem(item, stored));
        }
        if (items.Count != count)
        {
            throw new InvalidOperationException($"a root covers {count} deltas, {items.Count} are stored");
        }
        return items;
    }
}
