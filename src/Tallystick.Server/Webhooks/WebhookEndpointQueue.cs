namespace Tallystick.Server.Webhooks;

/// <summary>
/// The dispatcher's in-memory state for one endpoint: deliveries claimed from the database and rendered, waiting for
/// a lane (<see cref="Queued"/>), and the lanes sending them, at most a limit at once. A lane is a loop that takes the
/// next queued delivery as soon as its previous attempt ends, so an endpoint's throughput does not wait for the
/// dispatcher's passes. A claim lasts until the attempt is recorded (or abandoned by a stop): until then the row is
/// still <c>pending</c> in the database and is not claimed again. Thread-safe: the dispatcher's loop and the lanes
/// share it under one lock.
/// </summary>
internal sealed class WebhookEndpointQueue(DispatchEndpoint endpoint)
{
    private readonly Lock _gate = new();
    private readonly Queue<QueuedDelivery> _queued = new();
    private readonly HashSet<long> _claimed = [];
    private volatile DispatchEndpoint _endpoint = endpoint;
    private int _running;
    private bool _removed;

    public long Id => _endpoint.Endpoint.Id;

    /// <summary>The endpoint as last read (URL and secrets used by the next attempt; failing or not).</summary>
    public DispatchEndpoint Endpoint
    {
        get => _endpoint;
        set => _endpoint = value;
    }

    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queued.Count;
            }
        }
    }

    /// <summary>Deliveries claimed: queued, in flight, or finished and not yet recorded.</summary>
    public int Claimed
    {
        get
        {
            lock (_gate)
            {
                return _claimed.Count;
            }
        }
    }

    /// <summary>Disabled or deleted: lanes take nothing more and the queue is emptied (the rows stay pending).</summary>
    public bool Removed
    {
        get
        {
            lock (_gate)
            {
                return _removed;
            }
        }
    }

    public bool IsClaimed(long deliveryId)
    {
        lock (_gate)
        {
            return _claimed.Contains(deliveryId);
        }
    }

    /// <summary>Claims a delivery without queueing it (it is recorded at once, e.g. its event is gone).</summary>
    public void Claim(long deliveryId)
    {
        lock (_gate)
        {
            _claimed.Add(deliveryId);
        }
    }

    public void Enqueue(QueuedDelivery delivery)
    {
        lock (_gate)
        {
            _claimed.Add(delivery.Id);
            _queued.Enqueue(delivery);
        }
    }

    /// <summary>Counts one more lane when there is queued work and fewer than <paramref name="limit"/> run.</summary>
    public bool TryStartLane(int limit)
    {
        lock (_gate)
        {
            if (_removed || _queued.Count == 0 || _running >= limit)
            {
                return false;
            }
            _running++;
            return true;
        }
    }

    /// <summary>The lane's next delivery; or, atomically with finding none (or being told to stop), the lane ends,
    /// so work queued at the same moment is always seen by a lane or by the next <see cref="TryStartLane"/>.</summary>
    public bool TryTakeOrEndLane(bool stopping, out QueuedDelivery? delivery)
    {
        lock (_gate)
        {
            if (!stopping && !_removed && _queued.TryDequeue(out delivery))
            {
                return true;
            }
            _running--;
            delivery = null;
            return false;
        }
    }

    /// <summary>Ends a claim: the attempt was recorded, or abandoned by a stop.</summary>
    public void Release(long deliveryId)
    {
        lock (_gate)
        {
            _claimed.Remove(deliveryId);
        }
    }

    public void Remove()
    {
        lock (_gate)
        {
            _removed = true;
            foreach (var delivery in _queued)
            {
                _claimed.Remove(delivery.Id);
            }
            _queued.Clear();
        }
    }

    public void Restore(DispatchEndpoint endpoint)
    {
        lock (_gate)
        {
            _removed = false;
            _endpoint = endpoint;
        }
    }
}
