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
        RowsFilePath = Path.Combine(DataDirectory, RowsFileName);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        EnsureSchema();
        EnsureRowsDatabase();
    }

    /// <summary>
    /// The second database file: customer_rows, each customer's delta rows in sequence order (clustered), copied from
    /// the ledger by <c>Deltas.CustomerRows</c>. Derived and rebuildable, so it is not part of the durable record.
    /// </summary>
    public const string RowsFileName = "customer-rows.db";

    public string RowsFilePath { get; }

    /// <summary>
    /// customer_rows: every delta below <c>meta.below</c>, with everything a delta row shows (all but the salt) and its
    /// record's receipt and log position, keyed (customer, seq). A page of 100 rows is one seek and a few contiguous
    /// pages, where the ledger's tables (global order) cost two random pages per row. Per customer the rows here are
    /// always a prefix of its sequence; readers take the rest from the ledger (Deltas/DeltaRows.ReadCustomerRange).
    /// <c>meta.below_hash</c> is the item hash (upper-case hex) of delta below − 1: a file that does not match the
    /// ledger (a restored or replaced tallystick.db) is emptied at start.
    /// </summary>
    private const string RowsSchema = """
        CREATE TABLE IF NOT EXISTS meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS customer_rows (
            customer     INTEGER NOT NULL,
            seq          INTEGER NOT NULL,
            delta        INTEGER NOT NULL,
            amount_units INTEGER NOT NULL,
            reason       TEXT NOT NULL,
            reference_id TEXT,
            metadata     TEXT,
            item_hash    BLOB NOT NULL,
            received_at  INTEGER NOT NULL,
            record       INTEGER NOT NULL,
            receipt      BLOB NOT NULL,
            leaf_index   INTEGER NOT NULL,
            PRIMARY KEY (customer, seq)
        ) WITHOUT ROWID;
        """;

    /// <summary>Deltas below this id are in customer_rows (1 when it is empty).</summary>
    public static long ReadRowsBelow(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM rows.meta WHERE key = 'below'";
        return command.ExecuteScalar() is string value ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 1;
    }

    /// <summary>Attaches customer-rows.db to a connection to the ledger, as schema <c>rows</c>.</summary>
    public void AttachRows(SqliteConnection connection)
    {
        if (RowsAttached(connection))
        {
            return;
        }
        using var command = connection.CreateCommand();
        command.CommandText = "ATTACH DATABASE $path AS rows";
        command.Parameters.AddWithValue("$path", RowsFilePath);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// True when customer-rows.db is attached: Microsoft.Data.Sqlite pools handles, and a pooled handle keeps what it
    /// had attached.
    /// </summary>
    private static bool RowsAttached(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_database_list WHERE name = 'rows'";
        return (long)command.ExecuteScalar()! > 0;
    }

    /// <summary>
    /// Creates customer-rows.db when it is missing (the copier fills it from the ledger), and empties it when its
    /// newest row is not the ledger's delta of that id (the ledger was restored or replaced under it).
    /// </summary>
    private void EnsureRowsDatabase()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        AttachRows(connection);
        Execute(connection, "PRAGMA rows.journal_mode = WAL; PRAGMA busy_timeout = 30000;");
        using var transaction = connection.BeginTransaction(deferred: true);
        Execute(connection, RowsSchema.Replace("CREATE TABLE IF NOT EXISTS ", "CREATE TABLE IF NOT EXISTS rows.",
            StringComparison.Ordinal), transaction);
        var below = ReadRowsBelow(connection, transaction);
        if (below > 1)
        {
            using var check = connection.CreateCommand();
            check.Transaction = transaction;
            check.CommandText = "SELECT (SELECT hex(item_hash) FROM main.deltas WHERE id = $last) = " +
                "(SELECT value FROM rows.meta WHERE key = 'below_hash')";
            check.Parameters.AddWithValue("$last", below - 1);
            if (check.ExecuteScalar() is not 1L)
            {
                Execute(connection, "DELETE FROM rows.customer_rows; DELETE FROM rows.meta;", transaction);
            }
        }
        transaction.Commit();
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
        // A handle from Microsoft.Data.Sqlite's pool may still have customer-rows.db attached, and the sequencer's
        // BEGIN IMMEDIATE would then take that file's write lock too, waiting for (and blocking) the copier.
        if (RowsAttached(connection))
        {
            Execute(connection, "DETACH DATABASE rows");
        }
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
