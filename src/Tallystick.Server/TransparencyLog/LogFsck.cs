using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Server.Storage;
using Tallystick.Tiles;

namespace Tallystick.Server.TransparencyLog;

/// <summary>What <c>tally log verify</c> found. <see cref="Problems"/> is empty when the log is sound.</summary>
/// <param name="Origin">The log's origin line, if stored.</param>
/// <param name="Entries">Log entries read.</param>
/// <param name="TreeSize">The size of the latest stored checkpoint (the tree the tiles describe).</param>
/// <param name="Checkpoints">Checkpoints checked (signature, origin, size, root recomputed from the entries).</param>
/// <param name="Tiles">Stored hash tiles compared with tiles rebuilt from the entries.</param>
/// <param name="Problems">The first problems found (at most <see cref="LogFsck.ProblemsMax"/>), each naming the
/// entry, tile or checkpoint with what was expected and what was found.</param>
internal sealed record LogFsckReport(
    string? Origin, long Entries, long TreeSize, long Checkpoints, long Tiles, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;

    /// <summary>Entries sequenced but not yet covered by a checkpoint (a crash before integration leaves some;
    /// the server integrates them at its next start).</summary>
    public long PendingEntries => Math.Max(0, Entries - TreeSize);
}

/// <summary>
/// The log's fsck: replays every stored log entry through a <see cref="TileBuilder"/> and checks that each entry
/// is well-formed, that every stored hash tile equals the rebuilt one (level 0 = the leaf hashes), that every
/// stored checkpoint's root equals the root recomputed at its size, and that every checkpoint note is signed by
/// the log's key and says the same origin, size and root. Because every root is recomputed from one entry
/// sequence, consecutive checkpoints are necessarily consistent (each tree extends the previous one); no separate
/// consistency proof is needed. Reads one SQLite snapshot, so it can run beside a live server (WAL readers do not
/// block the writer). Streams entries and checkpoints: memory stays bounded whatever the log's size.
/// </summary>
internal static class LogFsck
{
    /// <summary>Verification stops after this many problems: the first ones locate the damage.</summary>
    public const int ProblemsMax = 10;

    /// <summary>Both log entry formats of proof-spec v1 (receipt 0x01, period checkpoint 0x02): type, u64 time,
    /// 32-byte commitment.</summary>
    private const int EntryLength = 41;

    /// <summary>Verifies the log in <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="ArgumentException">The directory holds no Tallystick database (a usage error).</exception>
    public static LogFsckReport Run(string dataDirectory)
    {
        var file = Path.Combine(Path.GetFullPath(dataDirectory), Database.FileName);
        if (!File.Exists(file))
        {
            throw new ArgumentException($"no Tallystick database at {file}");
        }
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var snapshot = connection.BeginTransaction(deferred: true);
        return new Pass(connection, snapshot, dataDirectory).Execute();
    }

    private sealed class Pass(SqliteConnection connection, SqliteTransaction snapshot, string dataDirectory)
    {
        private readonly List<string> _problems = [];
        private readonly TileBuilder _builder = new();
        private string? _origin;
        private NoteVerifier? _verifier;
        private long _entries;
        private long _checkpoints;
        private long _tiles;

        private bool Full => _problems.Count >= ProblemsMax;

        public LogFsckReport Execute()
        {
            LoadIdentity();
            long treeSize = Scalar("SELECT coalesce(max(size), 0) FROM checkpoints");
            using var tile = Command("SELECT hashes, subtrees FROM log_tiles WHERE level = $l AND idx = $i");
            var tileLevel = tile.Parameters.Add("$l", SqliteType.Integer);
            var tileIndex = tile.Parameters.Add("$i", SqliteType.Integer);
            void Compare(Tile built)
            {
                tileLevel.Value = built.Path.Level;
                tileIndex.Value = built.Path.Index;
                var (stored, subtrees) = TileSubtrees.ReadRow(tile);
                _tiles++;
                if (stored is null)
                {
                    Problem($"hash tile {built.Path} is missing from log_tiles");
                }
                else if (!stored.AsSpan().SequenceEqual(built.Hashes))
                {
                    Problem(DescribeTileMismatch(built, stored));
                }
                else if (subtrees is not null && DescribeSubtreeMismatch(built, subtrees) is { } problem)
                {
                    Problem(problem);
                }
                if (!built.Path.IsPartial && DescribeTileFileMismatch(built) is { } fileProblem)
                {
                    Problem(fileProblem);
                }
            }

            using var checkpointQuery = Command("SELECT size, root, note FROM checkpoints ORDER BY size");
            using var checkpoints = checkpointQuery.ExecuteReader();
            bool moreCheckpoints = checkpoints.Read();
            void CheckpointsAtCurrentSize()
            {
                while (moreCheckpoints && !Full && checkpoints.GetInt64(0) == _builder.Size)
                {
                    CheckCheckpoint(checkpoints.GetInt64(0), (byte[])checkpoints[1], checkpoints.GetString(2));
                    moreCheckpoints = checkpoints.Read();
                }
            }

            CheckpointsAtCurrentSize();
            using (var entryQuery = Command("SELECT idx, entry FROM log_entries ORDER BY idx"))
            using (var entries = entryQuery.ExecuteReader())
            {
                while (!Full && entries.Read())
                {
                    long index = entries.GetInt64(0);
                    if (index != _entries)
                    {
                        Problem($"log entry {_entries} is missing (the next stored entry is {index})");
                        break;
                    }
                    var entry = (byte[])entries[1];
                    CheckEntryFormat(index, entry);
                    _entries++;
                    if (index >= treeSize)
                    {
                        continue; // sequenced, not yet integrated: no tile or checkpoint covers it yet
                    }
                    foreach (var full in _builder.Append(Rfc6962.HashLeaf(entry)))
                    {
                        Compare(full);
                    }
                    CheckpointsAtCurrentSize();
                }
            }
            if (!Full && _builder.Size < treeSize)
            {
                Problem($"checkpoint {treeSize} covers {treeSize} entries, but log_entries holds only {_builder.Size}");
            }
            if (!Full && moreCheckpoints)
            {
                Problem($"checkpoint {checkpoints.GetInt64(0)} is beyond the {_builder.Size} entries replayed");
            }
            if (!Full && _builder.Size == treeSize)
            {
                foreach (var partial in _builder.PartialTiles())
                {
                    Compare(partial);
                }
                FindUnexpectedTiles(treeSize);
            }
            return new LogFsckReport(_origin, _entries, treeSize, _checkpoints, _tiles, _problems);
        }

        private void LoadIdentity()
        {
            using (var meta = Command("SELECT value FROM meta WHERE key = 'log_origin'"))
            {
                _origin = meta.ExecuteScalar() as string;
            }
            if (_origin is null)
            {
                Problem("the log origin (meta log_origin) is missing");
                return;
            }
            var keyPath = Path.Combine(dataDirectory, LogIdentity.KeyFileName);
            if (!File.Exists(keyPath))
            {
                Problem($"the log key {keyPath} is missing: checkpoint signatures cannot be checked");
                return;
            }
            try
            {
                var signer = NoteSigner.Parse(File.ReadAllText(keyPath).Trim());
                if (!string.Equals(signer.Name, _origin, StringComparison.Ordinal))
                {
                    Problem($"the log key {keyPath} is named '{signer.Name}', but the log origin is '{_origin}'");
                }
                _verifier = signer.Verifier;
            }
            catch (FormatException e)
            {
                Problem($"the log key {keyPath} is unreadable: {e.Message}");
            }
        }

        private void CheckEntryFormat(long index, byte[] entry)
        {
            if (entry.Length != EntryLength ||
                entry[0] is not (Tallystick.Deltas.ReceiptLogEntry.TypeReceipt or Tallystick.Proofs.PeriodCheckpoint.EntryType))
            {
                Problem($"log entry {index} is not a v1 entry: {entry.Length} bytes, type " +
                    $"0x{(entry.Length > 0 ? entry[0] : 0):x2} (want {EntryLength} bytes, type 0x01 or 0x02)");
            }
        }

        private void CheckCheckpoint(long size, byte[] root, string note)
        {
            _checkpoints++;
            var rebuilt = _builder.Root();
            if (!root.AsSpan().SequenceEqual(rebuilt))
            {
                Problem($"checkpoint {size}: stored root {Hex(root)}, but entries 0..{size - 1} give {Hex(rebuilt)}");
            }
            if (_verifier is null || _origin is null)
            {
                return;
            }
            var verified = Checkpoint.TryVerify(note, _verifier, _origin, out var parsed);
            if (!verified.IsValid || parsed is null)
            {
                Problem($"checkpoint {size}: the note does not verify with the log key: {verified.Error}");
            }
            else if (parsed.Size != size || !parsed.RootHash.AsSpan().SequenceEqual(root))
            {
                Problem($"checkpoint {size}: the signed note says size {parsed.Size}, root {Hex(parsed.RootHash)}, " +
                    $"but the row says size {size}, root {Hex(root)}");
            }
        }

        private void FindUnexpectedTiles(long treeSize)
        {
            using var query = Command("SELECT level, idx FROM log_tiles ORDER BY level, idx");
            using var stored = query.ExecuteReader();
            while (!Full && stored.Read())
            {
                int level = stored.GetInt32(0);
                long index = stored.GetInt64(1);
                long items = LogReader.ItemsAtLevel(treeSize, level);
                if (level < 0 || index < 0 || index * TilePath.FullWidth >= items)
                {
                    Problem($"log_tiles holds tile level {level} index {index}, which the tree of size {treeSize} " +
                        "does not have");
                }
            }
        }

        // The server's flat tile files (TileFiles) hold copies of full tiles; each one they hold must be the rebuilt
        // tile. A file shorter than the log is not a problem (the server appends to it in the background).
        private string? DescribeTileFileMismatch(Tile built)
        {
            var path = Path.Combine(dataDirectory, TileFiles.DirectoryName, $"level-{built.Path.Level}.tiles");
            long offset = built.Path.Index * built.Hashes.Length;
            if (built.Path.Level >= TileFiles.LevelsMax || !File.Exists(path))
            {
                return null;
            }
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (RandomAccess.GetLength(file) < offset + built.Hashes.Length)
            {
                return null;
            }
            var found = new byte[built.Hashes.Length];
            RandomAccess.Read(file, found, offset);
            return found.AsSpan().SequenceEqual(built.Hashes)
                ? null
                : $"tile file {TileFiles.DirectoryName}/level-{built.Path.Level}.tiles: {built.Path} differs from the tile " +
                    "rebuilt from the entries (stop the server and delete the file: it is rebuilt from the database)";
        }

        // The interior hashes stored with a full tile (TileSubtrees) must be the ones its hashes give; a partial tile
        // has none (NULL).
        private static string? DescribeSubtreeMismatch(Tile built, byte[] stored)
        {
            if (built.Hashes.Length != TilePath.FullWidth * Rfc6962.HashSize)
            {
                return $"hash tile {built.Path} is partial but has stored subtree hashes";
            }
            if (stored.Length != TileSubtrees.Size)
            {
                return $"hash tile {built.Path}: {stored.Length} bytes of stored subtree hashes, want {TileSubtrees.Size}";
            }
            var want = new byte[TileSubtrees.Size];
            TileSubtrees.Compute(built.Hashes, want);
            for (int i = 0; i < TileSubtrees.Count; i++)
            {
                var expected = want.AsSpan(i * Rfc6962.HashSize, Rfc6962.HashSize);
                var found = stored.AsSpan(i * Rfc6962.HashSize, Rfc6962.HashSize);
                if (!expected.SequenceEqual(found))
                {
                    return $"hash tile {built.Path}: stored subtree hash {i} is {Hex(found)}, rebuilt {Hex(expected)}";
                }
            }
            return null;
        }

        private static string DescribeTileMismatch(Tile built, byte[] stored)
        {
            int width = built.Hashes.Length / Rfc6962.HashSize;
            if (stored.Length != built.Hashes.Length)
            {
                return $"hash tile {built.Path}: stored {stored.Length} bytes, want {width} hashes " +
                    $"({built.Hashes.Length} bytes)";
            }
            for (int i = 0; i < width; i++)
            {
                var want = built.Hashes.AsSpan(i * Rfc6962.HashSize, Rfc6962.HashSize);
                var found = stored.AsSpan(i * Rfc6962.HashSize, Rfc6962.HashSize);
                if (!want.SequenceEqual(found))
                {
                    var what = built.Path.Level == 0
                        ? $"leaf hash of entry {(built.Path.Index * TilePath.FullWidth) + i}"
                        : $"hash {i}";
                    return $"hash tile {built.Path}: {what} is {Hex(found)}, rebuilt from entries {Hex(want)}";
                }
            }
            return $"hash tile {built.Path} differs";
        }

        private void Problem(string problem)
        {
            if (!Full)
            {
                _problems.Add(problem);
            }
        }

        private long Scalar(string sql)
        {
            using var command = Command(sql);
            return (long)command.ExecuteScalar()!;
        }

        private SqliteCommand Command(string sql)
        {
            var command = connection.CreateCommand();
            command.Transaction = snapshot;
            command.CommandText = sql;
            return command;
        }

        private static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);
    }
}
