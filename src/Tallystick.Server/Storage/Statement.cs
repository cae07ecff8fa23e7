using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tallystick.Server.Storage;

/// <summary>
/// A prepared SQLite statement driven through the raw SQLitePCL API, for the sequencer's per-row statements.
/// Microsoft.Data.Sqlite resolves every parameter by name and boxes every value on each execution, which cost
/// a fifth of the writer thread's time at 100k rows/s; this binds by position straight from spans. It runs on
/// the connection it was prepared on, inside whatever transaction that connection has open. Errors surface as
/// <see cref="SqliteException"/>, like everything else at the storage boundary. Not thread-safe.
/// </summary>
internal sealed class Statement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;
    private byte[] _text = new byte[256];

    public Statement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _stmt));
    }

    public Statement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_stmt, index, value));
        return this;
    }

    public Statement Bind(int index, ReadOnlySpan<byte> blob)
    {
        Check(raw.sqlite3_bind_blob(_stmt, index, blob));
        return this;
    }

    /// <summary>Binds UTF-8 text, or NULL when <paramref name="value"/> is null.</summary>
    public Statement Bind(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_stmt, index));
            return this;
        }
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_text.Length < max)
        {
            _text = new byte[Math.Max(max, _text.Length * 2)];
        }
        var length = Encoding.UTF8.GetBytes(value, _text);
        Check(raw.sqlite3_bind_text(_stmt, index, _text.AsSpan(0, length)));
        return this;
    }

    /// <summary>Runs a statement that returns no rows, then resets it for the next use.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_stmt);
        raw.sqlite3_reset(_stmt);
        if (rc != raw.SQLITE_DONE)
        {
            Throw(rc);
        }
    }

    /// <summary>Runs a query and returns the first column of its first row as an integer, or null for no row.</summary>
    public long? QueryInt64()
    {
        try
        {
            var rc = raw.sqlite3_step(_stmt);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_int64(_stmt, 0);
            }
            if (rc != raw.SQLITE_DONE)
            {
                Throw(rc);
            }
            return null;
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
        }
    }

    public void Dispose() => _stmt.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            Throw(rc);
        }
    }

    private void Throw(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);
}
