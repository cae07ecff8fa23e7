using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Deltas;

internal sealed partial class Sequencer
{
    /// <summary>
    /// (Re)builds every in-memory counter and the log state from the database, as at start. Used at start and
    /// after a failed transaction, so memory can never drift from what is durable.
    /// </summary>
    private void LoadState()
    {
        _commands?.Dispose();
        _writer?.Dispose();
        _writer = _database.OpenWriter();
        _syncer.Attach(_database.FilePath + "-wal");
        _commands = new WriterCommands(_writer);
        _customers.Clear();
        _pendingNewCustomers.Clear();
        _unintegrated.Clear();
        _nextDeltaId = Scalar("SELECT coalesce(max(id), 0) + 1 FROM deltas");
        _nextRecordId = Scalar("SELECT coalesce(max(id), 0) + 1 FROM records");
        _nextCustomerKey = Scalar("SELECT coalesce(max(id), 0) + 1 FROM customers");
        // Acceptance times never go backwards in record order, so the newest record holds the latest (one seek; there
        // is no index on accepted_at).
        _lastAcceptedAt = Scalar("SELECT coalesce((SELECT accepted_at FROM records ORDER BY id DESC LIMIT 1), 0)");
        var checkpoint = LatestCheckpoint() ?? SignEmptyCheckpoint();
        _tiles = TileStore.Load(_writer, null, checkpoint.Size);
        _range = _tiles.ToCompactRange(_writer, null);
        if (!_range.Root().AsSpan().SequenceEqual(checkpoint.Root))
        {
            throw new InvalidOperationException(
                $"the stored log tiles do not reproduce checkpoint {checkpoint.Size}: the log is corrupt; run `tally log verify`");
        }
        var sequencedSize = Scalar("SELECT coalesce(max(idx), -1) + 1 FROM log_entries");
        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT entry FROM log_entries WHERE idx >= $from ORDER BY idx";
            command.Parameters.AddWithValue("$from", checkpoint.Size);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _unintegrated.Add(Rfc6962.HashLeaf((byte[])reader[0]));
            }
        }
        if (checkpoint.Size + _unintegrated.Count != sequencedSize)
        {
            throw new InvalidOperationException("log entries are not contiguous: the log is corrupt");
        }
        _oldestUnintegratedAt = _unintegrated.Count > 0 ? _lastAcceptedAt : 0;
        // Whatever the WAL holds from before (a crash, a failed iteration) is made durable before it is published.
        _syncer.SyncNow();
        _head = _committed = new LogHead(sequencedSize, checkpoint.Size, checkpoint.Size, checkpoint.Root,
            checkpoint.Note, checkpoint.SignedAtUnixMs, _oldestUnintegratedAt, _nextDeltaId);
    }

    private SignedCheckpoint? LatestCheckpoint()
    {
        using var command = _writer!.CreateCommand();
        command.CommandText = "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var checkpoint = new SignedCheckpoint(reader.GetInt64(0), (byte[])reader[1], reader.GetString(2), reader.GetInt64(3));
        var verified = Checkpoint.TryVerify(checkpoint.Note, _log.Verifier, _log.Origin, out var parsed);
        if (!verified.IsValid || parsed is null || parsed.Size != checkpoint.Size || !parsed.RootHash.AsSpan().SequenceEqual(checkpoint.Root))
        {
            throw new InvalidOperationException(
                $"stored checkpoint {checkpoint.Size} does not verify with the log key: {verified.Error}");
        }
        return checkpoint;
    }

    /// <summary>A new log starts with a signed checkpoint of the empty tree, so readers always have one.</summary>
    private SignedCheckpoint SignEmptyCheckpoint()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var root = Rfc6962.EmptyRoot();
        var note = _log.Signer.Sign(new Checkpoint(_log.Origin, 0, root).ToNoteText());
        using var transaction = _writer!.BeginTransaction(deferred: false);
        _commands!.Bind(transaction);
        _commands.InsertCheckpoint(0, root, note, now);
        transaction.Commit();
        return new SignedCheckpoint(0, root, note, now);
    }

    private long Scalar(string sql)
    {
        using var command = _writer!.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
