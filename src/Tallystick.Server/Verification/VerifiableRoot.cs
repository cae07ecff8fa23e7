using Microsoft.Data.Sqlite;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Verification;

/// <summary>One delta under a verifiable root, as stored (enough to rebuild its exact item bytes).</summary>
internal sealed record RootItem(DeltaItem Item, byte[] ItemHash);

/// <summary>
/// What a proof root resolves to: its kind, the tenant it belongs to (for the reveal setting, never for access: the
/// root itself is the capability), the log entry that anchors it, and the deltas and balances it covers.
/// </summary>
/// <param name="Kind">The kind of root (<see cref="VerifiableRoot.ReceiptKind"/>, later period checkpoints).</param>
/// <param name="Root">The 32-byte root.</param>
/// <param name="TenantId">The owning tenant.</param>
/// <param name="LeafIndex">The index of the anchoring entry in the transparency log.</param>
/// <param name="LogEntry">The exact entry the log must hold at <paramref name="LeafIndex"/> for this root.</param>
/// <param name="RecordedAtUnixMs">The entry's time.</param>
/// <param name="CustomerReference">The keyed customer reference (20 bytes).</param>
/// <param name="StartingBalance">The customer's balance before the first delta.</param>
/// <param name="EndingBalance">The customer's balance after the last delta.</param>
/// <param name="Items">The deltas, in order; their item hashes are the leaves under the root.</param>
internal sealed record ResolvedRoot(string Kind, byte[] Root, long TenantId, long LeafIndex, byte[] LogEntry,
    long RecordedAtUnixMs, byte[] CustomerReference, Amount StartingBalance, Amount EndingBalance,
    IReadOnlyList<RootItem> Items)
{
    public Amount NetChange => EndingBalance - StartingBalance;
}

/// <summary>
/// Resolves a public proof root, one method per kind of root, each one indexed lookup: receipt roots now
/// (<c>records_by_receipt_epoch</c>); period-checkpoint roots plug in as a second method tried in <see cref="Resolve"/>.
/// Every well-formed root costs the same lookups whether it exists or not (no cache, no early exit), so timing shows
/// no more than one database lookup does.
/// </summary>
internal static class VerifiableRoot
{
    public const string ReceiptKind = "receipt";

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
    public static ResolvedRoot? Resolve(SqliteConnection connection, SqliteTransaction transaction, byte[] root) =>
        Receipt(connection, transaction, root);

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
        var items = ReadItems(connection, transaction, CustomerReference.Format(reference), firstDelta, count);
        if (!MerkleTree.RootFromLeafHashes(items.Select(i => i.ItemHash).ToList()).AsSpan().SequenceEqual(root))
        {
            throw new InvalidOperationException($"the item hashes of the record at leaf {leafIndex} do not give its receipt root");
        }
        return new ResolvedRoot(ReceiptKind, root, tenantId, leafIndex, ReceiptLogEntry.Create(root, acceptedAt),
            acceptedAt, reference, ending - Amount.FromUnits(netUnits), ending, items);
    }

    // The record's deltas are contiguous rowids from first_delta; each item is rebuilt exactly as the sequencer hashed
    // it, and a stored hash that differs is a corrupt store, never shown as verified.
    private static List<RootItem> ReadItems(SqliteConnection connection, SqliteTransaction transaction,
        string customerReference, long firstDelta, int count)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT seq, amount_units, reason, reference_id, metadata, salt, item_hash, received_at
            FROM deltas WHERE id BETWEEN $first AND $last ORDER BY id
            """;
        command.Parameters.AddWithValue("$first", firstDelta);
        command.Parameters.AddWithValue("$last", firstDelta + count - 1);
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
                throw new InvalidOperationException($"delta {firstDelta + items.Count} does not hash to its stored item hash");
            }
            items.Add(new RootItem(item, stored));
        }
        if (items.Count != count)
        {
            throw new InvalidOperationException($"a record lists {count} deltas, {items.Count} are stored");
        }
        return items;
    }
}
