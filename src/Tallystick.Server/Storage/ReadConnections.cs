using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tallystick.Server.Storage;

/// <summary>
/// The read-connection pool. Microsoft.Data.Sqlite pools the SQLite handles, but every <c>Open</c> ran the session
/// pragmas again and every command was prepared again (about a tenth of a derive's CPU). Connections here stay open
/// between requests, so pragmas run once and the statements of hot queries stay prepared
/// (<see cref="PreparedCommands.Prepared"/>).
/// </summary>
internal sealed partial class Database : IDisposable
{
    /// <summary>Idle read connections kept open; more may be open at once, the excess is closed when returned.</summary>
    public const int IdleReadConnectionsMax = 32;

    private readonly ConcurrentBag<PooledConnection> _idle = [];

    /// <summary>Turns at the write lock for the in-process writers that write continuously.</summary>
    public WriteTurns Turns { get; } = new();
    private int _idleCount;
    private volatile bool _disposed;

    /// <summary>Opens a pooled connection for reads (and short administrative writes). Disposing it returns it to the
    /// pool when it is clean (no open transaction), else closes it.</summary>
    public SqliteConnection Open()
    {
        while (_idle.TryTake(out var pooled))
        {
            Interlocked.Decrement(ref _idleCount);
            if (pooled.TryLease())
            {
                return pooled;
            }
        }
        var connection = new PooledConnection(this, ConnectionString);
        try
        {
            connection.Open();
            AttachRows(connection);
            Execute(connection, "PRAGMA busy_timeout = 30000; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;");
            connection.TryLease();
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Close();
            throw new StoreUnavailableException($"cannot open {FilePath}: {e.Message}", e);
        }
    }

    /// <summary>Closes the idle pooled connections; connections in use close when their users dispose them.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var pooled))
        {
            Interlocked.Decrement(ref _idleCount);
            pooled.Close();
        }
    }

    /// <summary>Takes a connection back; false when the caller must close it instead.</summary>
    private bool Return(PooledConnection connection)
    {
        if (_disposed || connection.State != System.Data.ConnectionState.Open || connection.Handle is not { } handle ||
            raw.sqlite3_get_autocommit(handle) == 0)
        {
            return false; // a transaction left open is rolled back by closing
        }
        if (Interlocked.Increment(ref _idleCount) > IdleReadConnectionsMax)
        {
            Interlocked.Decrement(ref _idleCount);
            return false;
        }
        _idle.Add(connection);
        return true;
    }

    /// <summary>A connection whose Dispose returns it to <see cref="Database"/>'s pool instead of closing it.</summary>
    private sealed class PooledConnection(Database owner, string connectionString) : SqliteConnection(connectionString)
    {
        private int _leased;

        public bool TryLease() => Interlocked.Exchange(ref _leased, 1) == 0;

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _leased, 0) == 1 && owner.Return(this))
            {
                return;
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// Statements kept prepared per connection, for queries run on every request. A command returned by
/// <see cref="Prepared"/> belongs to its connection: callers set its parameters and run it, and never dispose it
/// (nor keep it past the connection's use). Its parameters are cleared on each call.
/// </summary>
internal static class PreparedCommands
{
    /// <summary>Distinct statements cached per connection: the hot queries are few; a bound keeps a bug from
    /// growing the cache without end.</summary>
    public const int StatementsPerConnectionMax = 64;

    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Caches = new();

    public static SqliteCommand Prepared(this SqliteConnection connection, string sql)
    {
        var cache = Caches.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (cache.TryGetValue(sql, out var command))
        {
            command.Parameters.Clear();
            // Like CreateCommand, join the connection's open transaction, if any (SQLite requires it).
            using var probe = connection.CreateCommand();
            command.Transaction = probe.Transaction;
            return command;
        }
        command = connection.CreateCommand();
        command.CommandText = sql;
        if (cache.Count < StatementsPerConnectionMax)
        {
            cache.Add(sql, command);
        }
        return command;
    }
}
