using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Tallystick.Server.Storage;

/// <summary>
/// The embedded SQLite database: opens connections with the pragmas the service relies on and creates the
/// schema on first use. Infrastructure errors surface as <see cref="StoreUnavailableException"/>.
/// </summary>
internal sealed partial class Database
{
    public const int SchemaVersion = 1;
    public const string FileName = "tallystick.db";

    public Database(string dataDirectory)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(DataDirectory);
        FilePath = Path.Combine(DataDirectory, FileName);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        EnsureSchema();
    }

    public string DataDirectory { get; }

    public string FilePath { get; }

    public string ConnectionString { get; }

    /// <summary>
    /// Opens the one connection the sequencer writes through, with a large page cache. Commits do not wait for the
    /// disk (<c>synchronous = NORMAL</c>): the sequencer's <c>CommitSyncer</c> fsyncs the WAL on its own thread and
    /// answers nothing before that, so a 2xx still means the delta is on disk while the next transaction is built
    /// during the flush. WAL checkpoints are run by <see cref="WalCheckpointer"/>.
    /// </summary>
    public SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        Execute(connection,
            "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; " +
            "PRAGMA cache_size = -131072; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;");
        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private void EnsureSchema()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        // WAL lets readers proceed while the sequencer commits; it is a property of the file, set once.
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000;");
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var probe = connection.CreateCommand())
        {
            probe.Transaction = transaction;
            probe.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
            if ((long)probe.ExecuteScalar()! == 0)
            {
                Execute(connection, ReadSchema(), transaction);
                using var version = connection.CreateCommand();
                version.Transaction = transaction;
                version.CommandText = "INSERT INTO meta (key, value) VALUES ('schema_version', $v)";
                version.Parameters.AddWithValue("$v", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
                version.ExecuteNonQuery();
            }
        }
        using (var check = connection.CreateCommand())
        {
            check.Transaction = transaction;
            check.CommandText = "SELECT value FROM meta WHERE key = 'schema_version'";
            var found = check.ExecuteScalar() as string;
            if (found != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new StoreUnavailableException(
                    $"{FilePath} has schema version {found ?? "none"}, this build needs {SchemaVersion}");
            }
        }
        // Version 1 only ever grows by new tables and indexes, so replaying every CREATE with IF NOT EXISTS brings a
        // database made by an earlier build up to date (e.g. the webhook tables) and does nothing on a current one.
        Execute(connection, Additive().Replace(ReadSchema(), "$1 IF NOT EXISTS "), transaction);
        // Indexes an earlier build kept and this one does not: each cost every write a random b-tree insert.
        // records_by_time: scoped balances now binary-search records_by_customer (ScopeWindow.Before).
        // records_by_receipt (the receipt prefix alone): replaced by records_by_receipt_epoch (Deltas/ReceiptIndex.cs).
        Execute(connection, "DROP INDEX IF EXISTS records_by_time; DROP INDEX IF EXISTS records_by_receipt;", transaction);
        // Columns added since: tiles written before log_tiles.subtrees keep NULL there (readers compute them).
        using (var columns = connection.CreateCommand())
        {
            columns.Transaction = transaction;
            columns.CommandText = "SELECT count(*) FROM pragma_table_info('log_tiles') WHERE name = 'subtrees'";
            if ((long)columns.ExecuteScalar()! == 0)
            {
                Execute(connection, "ALTER TABLE log_tiles ADD COLUMN subtrees BLOB", transaction);
            }
        }
        transaction.Commit();
    }

    /// <summary>
    /// Writes the per-tenant setting <c>&lt;keyPrefix&gt;&lt;tenant id&gt;</c> in <c>meta</c> (removes it when
    /// <paramref name="value"/> is null) for the tenant named <paramref name="tenantName"/>; false when there is no
    /// such tenant.
    /// </summary>
    public bool WriteTenantMeta(string tenantName, string keyPrefix, string? value)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var find = connection.CreateCommand();
        find.Transaction = transaction;
        find.CommandText = "SELECT id FROM tenants WHERE name = $n";
        find.Parameters.AddWithValue("$n", tenantName);
        if (find.ExecuteScalar() is not long tenantId)
        {
            return false;
        }
        using var write = connection.CreateCommand();
        write.Transaction = transaction;
        write.Parameters.AddWithValue("$k", keyPrefix + tenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        write.CommandText = value is null
            ? "DELETE FROM meta WHERE key = $k"
            : "INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        if (value is not null)
        {
            write.Parameters.AddWithValue("$v", value);
        }
        write.ExecuteNonQuery();
        transaction.Commit();
        return true;
    }

    public static string? ReadMeta(SqliteConnection connection, string key, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM meta WHERE key = $k";
        command.Parameters.AddWithValue("$k", key);
        return command.ExecuteScalar() as string;
    }

    public static void WriteMeta(SqliteConnection connection, string key, string value, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO meta (key, value) VALUES ($k, $v)";
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(CREATE (?:UNIQUE )?(?:TABLE|INDEX)) (?!IF NOT EXISTS)")]
    private static partial System.Text.RegularExpressions.Regex Additive();

    private static string ReadSchema()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Tallystick.Server.Storage.Schema.sql")
            ?? throw new InvalidOperationException("embedded schema missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>The store cannot be reached or written (disk full, I/O error, locked beyond the timeout).</summary>
internal sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message) : base(message) { }

    public StoreUnavailableException(string message, Exception inner) : base(message, inner) { }
}
