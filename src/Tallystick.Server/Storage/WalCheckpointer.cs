using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tallystick.Server.Storage;

/// <summary>
/// Copies committed WAL pages into the database file in the background (PASSIVE: never blocks the sequencer),
/// so the sequencer does not pay for checkpoints on its commit path. Under sustained writes a PASSIVE checkpoint
/// never catches up with the end of the WAL, and SQLite only rewinds a WAL that is fully copied when a write
/// transaction begins, so the file would grow without bound (12 GB after 2M deltas, measured). The sequencer
/// therefore calls <see cref="RewindIfLarge"/> between transactions: whenever it has nothing queued and the WAL
/// passes <see cref="IdleWalBytesMax"/>, and under any load once it passes <see cref="WalBytesMax"/>. It copies the
/// last frames itself (most were already copied here) so that its next transaction starts the WAL over, and
/// <c>journal_size_limit</c> shrinks the file. Doing that under load stalls the writer for the copy and the database
/// fsync (p99 emit latency went from 16 ms to 70–120 ms when it happened every few seconds, measured), hence the two
/// thresholds.
/// </summary>
internal sealed class WalCheckpointer(Database database, ILogger<WalCheckpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>WAL size beyond which the sequencer rewinds it between two transactions, even under load.</summary>
    public const long WalBytesMax = 2L << 30;

    /// <summary>WAL size beyond which the sequencer rewinds it when it has nothing queued.</summary>
    public const long IdleWalBytesMax = 64L << 20;

    /// <summary>How often the sequencer looks at the WAL's size.</summary>
    public static readonly TimeSpan RewindCheckInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        using var connection = database.Open();
        using var passive = connection.CreateCommand();
        passive.CommandText = "PRAGMA main.wal_checkpoint(PASSIVE)";
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                passive.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                logger.LogWarning(e, "background WAL checkpoint failed; will retry");
            }
        }
    }

    /// <summary>
    /// On the writer connection, outside any transaction: when the WAL is larger than <paramref name="threshold"/>,
    /// checkpoints it (PASSIVE: readers are never waited for) so the next write transaction can start it over.
    /// Returns true when it ran a checkpoint.
    /// </summary>
    public static bool RewindIfLarge(SqliteConnection writer, string walPath, long threshold)
    {
        var wal = new FileInfo(walPath);
        if (!wal.Exists || wal.Length <= threshold)
        {
            return false;
        }
        using var command = writer.CreateCommand();
        command.CommandText = "PRAGMA main.wal_checkpoint(PASSIVE)";
        command.ExecuteNonQuery();
        return true;
    }
}
