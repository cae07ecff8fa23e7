using Tallystick.Server.Deltas;

namespace Tallystick.Server.Tests;

// Goal: the customer reference format (docs/proof-spec.md §3) never changes by accident.
// Method: a fixed key and id against a value computed independently with Python's hmac module.
public sealed class CustomerReferenceTests
{
    [Fact]
    public void Derive_FixedKey_MatchesIndependentHmac()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var reference = CustomerReference.Derive(key, "cust_8xKj2m");

        Assert.Equal("0xcbb96947d6d1b26a42ba6de5b58653815983b669", CustomerReference.Format(reference));
    }

    [Fact]
    public void Derive_OtherKey_OtherReference()
    {
        var a = CustomerReference.Derive(new byte[32], "cust_1");
        var b = CustomerReference.Derive(Enumerable.Repeat((byte)1, 32).ToArray(), "cust_1");
        Assert.NotEqual(Convert.ToHexString(a), Convert.ToHexString(b));
        Assert.Equal(20, a.Length);
    }
}
