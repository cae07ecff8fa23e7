using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Tests;

// Goal: a database made by an earlier build of schema version 1 (fewer tables and indexes) gets the missing ones
// when the server opens it, and opening a current database changes nothing.
// Method: drop tables and indexes added later from a fresh database, reopen it, compare sqlite_master.
public sealed class SchemaUpgradeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tally-schema-" + Guid.NewGuid().ToString("N"));

    private static List<string> Objects(Database database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    [Fact]
    public void Reopen_OlderVersion1Database_GainsMissingTablesAndIndexes()
    {
        var expected = Objects(new Database(_dir));
        Assert.Contains("table webhook_events", expected);
        Assert.Contains("index records_by_receipt_epoch", expected);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "tallystick.db")}"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE webhook_events; DROP TABLE period_checkpoints; " +
                "DROP INDEX records_by_receipt_epoch;";
            drop.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var upgraded = Objects(new Database(_dir));
        var again = Objects(new Database(_dir));

        Assert.Equal(expected, upgraded);
        Assert.Equal(expected, again);
    }

    [Fact]
    public void Reopen_DatabaseWithRetiredIndexes_DropsThem()
    {
        var expected = Objects(new Database(_dir));
        Assert.DoesNotContain("index records_by_time", expected);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "tallystick.db")}"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE INDEX records_by_time ON records (customer, accepted_at); " +
                "CREATE INDEX records_by_receipt ON records (substr(receipt, 1, 8));";
            create.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var upgraded = Objects(new Database(_dir));

        Assert.Equal(expected, upgraded);
    }

    [Fact]
    public void Reopen_LogTilesWithoutSubtrees_GainsTheColumn_KeepingTheRows()
    {
        using (new Database(_dir))
        {
        }
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "tallystick.db")}"))
        {
            connection.Open();
            using var old = connection.CreateCommand();
            // log_tiles as builds before the stored interior hashes made it, with one tile in it.
            old.CommandText = "DROP TABLE log_tiles; " +
                "CREATE TABLE log_tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, " +
                "PRIMARY KEY (level, idx)) WITHOUT ROWID; " +
                "INSERT INTO log_tiles (level, idx, hashes) VALUES (0, 0, zeroblob(8192));";
            old.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        using var upgraded = new Database(_dir);
        using var again = new Database(_dir); // opening it again must not try to add the column twice

        using var connection2 = upgraded.Open();
        using var columns = connection2.CreateCommand();
        columns.CommandText = "SELECT group_concat(name, ',') FROM pragma_table_info('log_tiles')";
        Assert.Equal("level,idx,hashes,subtrees", columns.ExecuteScalar());
        using var row = connection2.CreateCommand();
        row.CommandText = "SELECT length(hashes), subtrees IS NULL FROM log_tiles WHERE level = 0 AND idx = 0";
        using var reader = row.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(8192L, reader.GetInt64(0));
        Assert.Equal(1L, reader.GetInt64(1));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
