using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Webhooks;

/// <summary>
/// The transactional outbox: <see cref="Sequencer.OnCommit"/> writes one <c>webhook_events</c> row per event, inside
/// the transaction that sequences or verifies the state the event describes, so an event exists exactly when its
/// state committed. Only planes with an enabled endpoint subscribed to the type get rows; with no endpoint at all
/// the hook reads one field and returns. Each event kind is one <c>INSERT … SELECT</c> over a rowid range: records
/// and period checkpoints are written in leaf order, so the rows of a leaf range [from, to) are the rowids after the
/// last one below <c>from</c> (<see cref="LeafCursor"/>) whose leaf index is below <c>to</c>. The statements are
/// written so that SQLite can only walk those rowid ranges (<c>CROSS JOIN</c> keeps records the outer loop and deltas
/// a rowid range inside it; the unary <c>+</c> keeps the plane filter off the per-plane indexes): left to choose,
/// its planner scanned every delta, or every period checkpoint of the plane, on each commit, which made the
/// sequencer's cost per commit grow with the ledger. <paramref name="written"/> gets the commit's sizes when it wrote
/// events (<see cref="WebhookDispatcher.EventsWritten"/>): they are deliverable once the published head reaches them.
/// </summary>
internal sealed class WebhookOutbox(WebhookEndpoints endpoints, Action<long, long> written)
{
    private readonly LeafCursor _sequencedRecords = new("records");
    private readonly LeafCursor _verifiedRecords = new("records");
    private readonly LeafCursor _verifiedCheckpoints = new("period_checkpoints");
    private readonly OutboxStatements _statements = new();

    /// <summary>Runs on the sequencer thread, inside its open transaction.</summary>
    public void OnCommit(CommitContext context)
    {
        var subscriptions = endpoints.Subscriptions;
        if (subscriptions.IsEmpty)
        {
            return;
        }
        var inserted = 0;
        if (context.SequencedTo > context.SequencedFrom &&
            subscriptions.PlanesFor(WebhookEventTypes.ReceiptGenerated) is { } receiptPlanes)
        {
            inserted += Insert(context, _sequencedRecords, context.SequencedFrom, context.SequencedTo, receiptPlanes,
                "SELECT r.plane_id, 'receipt.generated', r.id, r.leaf_index, $now FROM records r " +
                "WHERE r.id > $after AND r.leaf_index < $to AND +r.plane_id IN ({0}) ORDER BY r.id");
        }
        if (context.VerifiedTo > context.VerifiedFrom)
        {
            if (subscriptions.PlanesFor(WebhookEventTypes.DeltaVerified) is { } deltaPlanes)
            {
                inserted += Insert(context, _verifiedRecords, context.VerifiedFrom, context.VerifiedTo, deltaPlanes,
                    "SELECT r.plane_id, 'delta.verified', d.id, r.leaf_index, $now FROM records r " +
                    "CROSS JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
                    "WHERE r.id > $after AND r.leaf_index < $to AND +r.plane_id IN ({0}) ORDER BY r.id, d.id");
            }
            if (subscriptions.PlanesFor(WebhookEventTypes.CheckpointVerified) is { } checkpointPlanes)
            {
                inserted += Insert(context, _verifiedCheckpoints, context.VerifiedFrom, context.VerifiedTo,
                    checkpointPlanes, "SELECT c.plane_id, 'checkpoint.verified', c.id, c.leaf_index, $now " +
                    "FROM period_checkpoints c WHERE c.id > $after AND c.leaf_index < $to AND +c.plane_id IN ({0}) " +
                    "ORDER BY c.id");
            }
        }
        if (inserted > 0)
        {
            written(context.SequencedTo, context.VerifiedTo);
        }
    }

    private int Insert(CommitContext context, LeafCursor cursor, long from, long to, string planes, string select)
    {
        var statements = _statements.For(context.Connection, context.Transaction);
        var after = cursor.RowidBefore(statements, from);
        var command = statements.Get("INSERT INTO webhook_events (plane_id, type, subject, leaf_index, created_at) " +
            string.Format(System.Globalization.CultureInfo.InvariantCulture, select, planes), "$now", "$after", "$to");
        command.Parameters["$now"].Value = context.NowUnixMs;
        command.Parameters["$after"].Value = after;
        command.Parameters["$to"].Value = to;
        var inserted = command.ExecuteNonQuery();
        cursor.Expect(statements, after, to);
        return inserted;
    }
}

/// <summary>
/// The outbox's statements on the sequencer's connection, prepared once and reused by every commit (preparing them
/// again on each commit cost the sequencer thread more than running them). A new connection (the sequencer reopens
/// its connection after a failure) drops them all, and so does reaching <see cref="StatementsMax"/> (each set of
/// subscribed planes is another text). Used only on the sequencer thread.
/// </summary>
internal sealed class OutboxStatements
{
    /// <summary>Distinct statement texts kept at most.</summary>
    public const int StatementsMax = 64;

    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteConnection? _connection;
    private SqliteTransaction? _transaction;

    /// <summary>Binds the statements to the commit's connection and transaction.</summary>
    public OutboxStatements For(SqliteConnection connection, SqliteTransaction transaction)
    {
        if (!ReferenceEquals(connection, _connection) || _commands.Count >= StatementsMax)
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }
            _commands.Clear();
            _connection = connection;
        }
        _transaction = transaction;
        return this;
    }

    /// <summary>The prepared statement for <paramref name="sql"/>, in the current transaction, with integer
    /// parameters named <paramref name="parameters"/>.</summary>
    public SqliteCommand Get(string sql, params string[] parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection!.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(name, SqliteType.Integer);
            }
            _commands[sql] = command;
        }
        command.Transaction = _transaction;
        return command;
    }
}

/// <summary>
/// For a table whose rows are written in leaf order (records, period_checkpoints): the last rowid whose leaf index is
/// below a given leaf. The answer for the next range's start is computed while the range is handled and confirmed
/// when the next call asks for exactly that leaf (so a rolled-back transaction never leaves a wrong cursor); any
/// other leaf is found by binary search over rowids (leaf_index grows with rowid; there is no leaf_index index).
/// Used only on the sequencer thread.
/// </summary>
internal sealed class LeafCursor(string table)
{
    private long _leaf = -1;
    private long _rowid;
    private long _expectedLeaf = -1;
    private long _expectedRowid;

    public long RowidBefore(OutboxStatements statements, long leaf)
    {
        if (leaf == _leaf)
        {
            return _rowid;
        }
        if (leaf == _expectedLeaf)
        {
            (_leaf, _rowid) = (_expectedLeaf, _expectedRowid);
            return _rowid;
        }
        (_leaf, _rowid) = (leaf, Search(statements, leaf));
        return _rowid;
    }

    /// <summary>Remembers the answer for <paramref name="leaf"/>: the last rowid after <paramref name="after"/> whose
    /// leaf index is below it.</summary>
    public void Expect(OutboxStatements statements, long after, long leaf)
    {
        var command = statements.Get(
            $"SELECT coalesce(max(id), $after) FROM {table} WHERE id > $after AND leaf_index < $leaf", "$after", "$leaf");
        command.Parameters["$after"].Value = after;
        command.Parameters["$leaf"].Value = leaf;
        (_expectedLeaf, _expectedRowid) = (leaf, (long)command.ExecuteScalar()!);
    }

    private long Search(OutboxStatements statements, long leaf)
    {
        long low = 0, high = (long)statements.Get($"SELECT coalesce(max(id), 0) FROM {table}").ExecuteScalar()!;
        var probe = statements.Get($"SELECT id, leaf_index FROM {table} WHERE id >= $mid ORDER BY id LIMIT 1", "$mid");
        var mid = probe.Parameters["$mid"];
        // Invariant: every rowid ≤ low has leaf_index < leaf (low = 0: none), every rowid > high has leaf_index ≥ leaf.
        while (low < high)
        {
            mid.Value = low + ((high - low + 1) / 2);
            using var reader = probe.ExecuteReader();
            if (reader.Read() && reader.GetInt64(1) < leaf)
            {
                low = reader.GetInt64(0);
            }
            else
            {
                high = (long)mid.Value - 1;
            }
        }
        return low;
    }
}
