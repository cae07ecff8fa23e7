using Tallystick.Server.Storage;

namespace Tallystick.Server.Tests;

// Goal: the write-lock turns are exclusive, and a waiting dispatcher (Other) goes before the sequencer's next
// transaction, so deliveries are not starved by back-to-back group commits.
// Method: real threads blocked on the turns; the order in which they get them is recorded.
public sealed class WriteTurnsTests
{
    [Fact]
    public void WaitingOther_GoesBeforeTheSequencersNextTurn()
    {
        var turns = new WriteTurns();
        var order = new List<string>();
        var first = turns.Sequencer();
        var other = StartBlocked(() => { using (turns.Other()) { lock (order) { order.Add("other"); } } });
        var sequencer = StartBlocked(() => { using (turns.Sequencer()) { lock (order) { order.Add("sequencer"); } } });

        first.Dispose();
        Assert.True(other.Join(TimeSpan.FromSeconds(10)));
        Assert.True(sequencer.Join(TimeSpan.FromSeconds(10)));

        Assert.Equal(["other", "sequencer"], order);
    }

    [Fact]
    public void Turns_AreExclusive()
    {
        var turns = new WriteTurns();
        var inside = 0;
        var overlaps = 0;
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            for (var n = 0; n < 2000; n++)
            {
                using var turn = i == 0 ? turns.Sequencer() : turns.Other();
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
                Interlocked.Decrement(ref inside);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));

        Assert.Equal(0, overlaps);
    }

    /// <summary>Starts <paramref name="body"/> on a thread and returns once the thread is blocked (waiting).</summary>
    private static Thread StartBlocked(Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true };
        thread.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((thread.ThreadState & ThreadState.WaitSleepJoin) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the thread never blocked on its turn");
            Thread.Sleep(1);
        }
        return thread;
    }
}
