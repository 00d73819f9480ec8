using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints.Pickle;

/// <summary>
/// A restricted unpickler for the pickles <c>torch.save</c> writes (protocols 0-5, Python 2 and 3). It is a
/// data-only stack machine: globals resolve through <see cref="AllowList"/> to a fixed set of constructors that
/// are implemented here (dicts, namespaces, tensors, sets, bytes, numpy scalars); nothing named by the file is
/// ever looked up by reflection or executed. Stack, memo and integer sizes are bounded by
/// <see cref="TorchLoadLimits"/>; every length field is checked against the remaining bytes. Any malformed or
/// refused input ends in one <see cref="InvalidDataException"/> naming the source and byte offset.
/// </summary>
internal sealed class PickleReader
{
    private readonly PickleInput _in;
    private readonly TorchLoadLimits _limits;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<TorchTensor> _tensors;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private readonly IReadOnlyCollection<string>? _inertClasses;

    /// <param name="input">The pickle bytes.</param>
    /// <param name="limits">Size bounds.</param>
    /// <param name="persistentLoad">Resolves a persistent id (torch storages); throws <see cref="InvalidDataException"/> for anything else.</param>
    /// <param name="tensors">Receives every tensor built, so the caller can materialise them once storages are read.</param>
    /// <param name="inertClasses">"module.Name" of classes to rebuild as attribute holders (<see cref="PyObject"/>).</param>
    public PickleReader(PickleInput input, TorchLoadLimits limits, Func<object?, object?> persistentLoad, List<TorchTensor> tensors,
        IReadOnlyCollection<string>? inertClasses = null)
    {
        _inertClasses = inertClasses;
        _in = input;
        _limits = limits;
        _persistentLoad = persistentLoad;
        _tensors = tensors;
    }

    /// <summary>Runs the pickle to its STOP opcode and returns the object it built.</summary>
    public object? Load(CancellationToken cancellationToken = default)
    {
        int steps = 0;
        while (true)
        {
            if ((++steps & 0xffff) == 0) cancellationToken.ThrowIfCancellationRequested();
            byte op = _in.ReadByte();
            if (op == (byte)'.')
            {
                if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count)) throw _in.Error("STOP with an empty stack");
                return Pop();
            }
            try
            {
                Step(op);
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(_in.FileName + ":", StringComparison.Ordinal))
            {
                // Raised below the reader (e.g. an unhashable dict key found by PyKeyComparer): add file and position.
                throw _in.Error(e.Message);
            }
        }
    }

    private void Step(byte op)
    {
        switch (op)
        {
            // ---- framing and protocol ---------------------------------------------------------------------
            case 0x80: // PROTO
            {
                byte version = _in.ReadByte();
                if (version > 5) throw _in.Error($"unsupported pickle protocol {version} (0-5 are known)");
                break;
            }
            case 0x95: // FRAME
            {
                ulong length = _in.ReadUInt64();
                if (length > (ulong)Math.Max(0, _in.Remaining)) throw _in.Error($"frame of {length} bytes exceeds the {_in.Remaining} remaining; the file is truncated or corrupt");
                break;
            }

            // ---- stack manipulation -----------------------------------------------------------------------
            case (byte)'(': // MARK
                if (_marks.Count >= _limits.MaxStackItems) throw _in.Error($"more than {_limits.MaxStackItems} nested marks");
                _marks.Add(_stack.Count);
                break;
            case (byte)'0': // POP
                if (_stack.Count > MarkBase()) _stack.RemoveAt(_stack.Count - 1);
                else if (_marks.Count > 0) _marks.RemoveAt(_marks.Count - 1);
                else throw _in.Error("POP from an empty stack");
                break;
            case (byte)'1': // POP_MARK
                PopMark();
                break;
            case (byte)'2': // DUP
                Push(Peek());
                break;

            // ---- memo -------------------------------------------------------------------------------------
            case (byte)'p': // PUT (text)
                MemoPut(ParseIndexLine("PUT"));
                break;
            case (byte)'q': // BINPUT
                MemoPut(_in.ReadByte());
                break;
            case (byte)'r': // LONG_BINPUT
                MemoPut(_in.ReadUInt32());
                break;
            case 0x94: // MEMOIZE
                MemoPut(_memo.Count);
                break;
            case (byte)'g': // GET (text)
                Push(MemoGet(ParseIndexLine("GET")));
                break;
            case (byte)'h': // BINGET
                Push(MemoGet(_in.ReadByte()));
                break;
            case (byte)'j': // LONG_BINGET
                Push(MemoGet(_in.ReadUInt32()));
                break;

            // ---- constants and numbers --------------------------------------------------------------------
            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break;  // NEWTRUE
            case 0x89: Push(false); break; // NEWFALSE
            case (byte)'I': // INT (text); "01"/"00" are Python 2's True/False
            {
                string text = ReadAsciiLine("INT", _limits.MaxIntegerBytes + 2);
                if (text == "01") Push(true);
                else if (text == "00") Push(false);
                else Push(PickleText.ParseInteger(text) ?? throw _in.Error($"INT argument '{Clip(text)}' is not an integer"));
                break;
            }
            case (byte)'L': // LONG (text)
            {
                string text = ReadAsciiLine("LONG", _limits.MaxIntegerBytes + 2);
                Push(PickleText.ParseInteger(text) ?? throw _in.Error($"LONG argument '{Clip(text)}' is not an integer"));
                break;
            }
            case (byte)'J': Push((long)_in.ReadInt32()); break;   // BININT
            case (byte)'K': Push((long)_in.ReadByte()); break;    // BININT1
            case (byte)'M': Push((long)_in.ReadUInt16()); break;  // BININT2
            case 0x8a: Push(ReadLong(_in.ReadByte())); break;      // LONG1
            case 0x8b: Push(ReadLong(_in.ReadInt32())); break;     // LONG4
            case (byte)'F': // FLOAT (text)
            {
                string text = ReadAsciiLine("FLOAT", 512);
                Push(PickleText.ParseFloat(text) ?? throw _in.Error($"FLOAT argument '{Clip(text)}' is not a number"));
                break;
            }
            case (byte)'G': Push(_in.ReadDoubleBigEndian()); break; // BINFLOAT

            // ---- strings and bytes ------------------------------------------------------------------------
            case (byte)'S': // STRING (text, Python 2 str)
            {
                var line = _in.ReadLine(_limits.MaxLineBytes, "STRING argument");
                var bytes = PickleText.ParseQuotedBytes(line) ?? throw _in.Error("STRING argument is not a quoted string literal");
                Push(PickleText.Py2String(bytes));
                break;
            }
            case (byte)'T': // BINSTRING (Python 2 str)
            {
                int n = _in.ReadInt32();
                Push(PickleText.Py2String(_in.ReadBytes(n, "BINSTRING")));
                break;
            }
            case (byte)'U': // SHORT_BINSTRING (Python 2 str)
                Push(PickleText.Py2String(_in.ReadBytes(_in.ReadByte(), "SHORT_BINSTRING")));
                break;
            case (byte)'V': // UNICODE (text, raw-unicode-escape)
            {
                var line = _in.ReadLine(_limits.MaxLineBytes, "UNICODE argument");
                Push(PickleText.ParseRawUnicodeEscape(line) ?? throw _in.Error("UNICODE argument has a malformed \\u escape"));
                break;
            }
            case (byte)'X': Push(Utf8(_in.ReadBytes(_in.ReadUInt32(), "BINUNICODE"), "BINUNICODE")); break;
            case 0x8c: Push(Utf8(_in.ReadBytes(_in.ReadByte(), "SHORT_BINUNICODE"), "SHORT_BINUNICODE")); break;
            case 0x8d: Push(Utf8(_in.ReadBytes(Length64(_in.ReadUInt64(), "BINUNICODE8"), "BINUNICODE8"), "BINUNICODE8")); break;
            case (byte)'B': Push(_in.ReadBytes(_in.ReadUInt32(), "BINBYTES")); break;
            case (byte)'C': Push(_in.ReadBytes(_in.ReadByte(), "SHORT_BINBYTES")); break;
            case 0x8e: Push(_in.ReadBytes(Length64(_in.ReadUInt64(), "BINBYTES8"), "BINBYTES8")); break;
            case 0x96: Push(_in.ReadBytes(Length64(_in.ReadUInt64(), "BYTEARRAY8"), "BYTEARRAY8")); break;

            // ---- containers -------------------------------------------------------------------------------
            case (byte)']': Push(new PyList()); break;   // EMPTY_LIST
            case (byte)'}': Push(new PyDict(ordered: false)); break; // EMPTY_DICT
            case (byte)')': Push(PyTuple.Empty); break;  // EMPTY_TUPLE
            case 0x8f: Push(new PySet(frozen: false)); break; // EMPTY_SET
            case (byte)'l': Push(new PyList(PopMark())); break; // LIST
            case (byte)'t': Push(new PyTuple(PopMark())); break; // TUPLE
            case 0x85: Push(new PyTuple(PopN(1))); break; // TUPLE1
            case 0x86: Push(new PyTuple(PopN(2))); break; // TUPLE2
            case 0x87: Push(new PyTuple(PopN(3))); break; // TUPLE3
            case (byte)'d': // DICT
            {
                var items = PopMark();
                if (items.Length % 2 != 0) throw _in.Error("DICT with an odd number of items");
                var dict = new PyDict(ordered: false);
                for (int i = 0; i < items.Length; i += 2) dict.Set(items[i], items[i + 1]);
                Push(dict);
                break;
            }
            case (byte)'a': // APPEND
            {
                var item = Pop();
                TargetList("APPEND").Add(item);
                break;
            }
            case (byte)'e': // APPENDS
            {
                var items = PopMark();
                TargetList("APPENDS").AddRange(items);
                break;
            }
            case (byte)'s': // SETITEM
            {
                var value = Pop();
                var key = Pop();
                TargetDict("SETITEM").Set(key, value);
                break;
            }
            case (byte)'u': // SETITEMS
            {
                var items = PopMark();
                if (items.Length % 2 != 0) throw _in.Error("SETITEMS with an odd number of items");
                var dict = TargetDict("SETITEMS");
                for (int i = 0; i < items.Length; i += 2) dict.Set(items[i], items[i + 1]);
                break;
            }
            case 0x90: // ADDITEMS
            {
                var items = PopMark();
                if (Peek() is not PySet { IsFrozen: false } set) throw _in.Error($"ADDITEMS on a {PyValue.TypeName(Peek())}, expected a set");
                foreach (var item in items) set.Add(item);
                break;
            }
            case 0x91: // FROZENSET
            {
                var set = new PySet(frozen: true);
                foreach (var item in PopMark()) set.Add(item);
                Push(set);
                break;
            }

            // ---- globals and object construction ------------------------------------------------------------
            case (byte)'c': // GLOBAL
            {
                string module = ReadAsciiLine("GLOBAL module", 1024);
                string name = ReadAsciiLine("GLOBAL name", 1024);
                Push(ResolveGlobal(module, name));
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                var name = Pop();
                var module = Pop();
                if (module is not string m || name is not string n) throw _in.Error("STACK_GLOBAL needs two strings");
                Push(ResolveGlobal(m, n));
                break;
            }
            case (byte)'R': // REDUCE
            {
                var args = Pop();
                var callable = Pop();
                if (args is not PyTuple tuple) throw _in.Error($"REDUCE arguments are a {PyValue.TypeName(args)}, expected a tuple");
                Push(Reduce(callable, tuple));
                break;
            }
            case 0x81: // NEWOBJ
            {
                var args = Pop();
                var cls = Pop();
                Push(NewObject(cls, args as PyTuple ?? throw _in.Error("NEWOBJ arguments are not a tuple"), null));
                break;
            }
            case 0x92: // NEWOBJ_EX
            {
                var kwargs = Pop();
                var args = Pop();
                var cls = Pop();
                Push(NewObject(cls, args as PyTuple ?? throw _in.Error("NEWOBJ_EX arguments are not a tuple"), kwargs));
                break;
            }
            case (byte)'i': // INST
            {
                string module = ReadAsciiLine("INST module", 1024);
                string name = ReadAsciiLine("INST name", 1024);
                var cls = ResolveGlobal(module, name);
                Push(NewObject(cls, new PyTuple(PopMark()), null));
                break;
            }
            case (byte)'o': // OBJ
            {
                var items = PopMark();
                if (items.Length == 0) throw _in.Error("OBJ without a class");
                Push(NewObject(items[0], new PyTuple(items[1..]), null));
                break;
            }
            case (byte)'b': // BUILD
            {
                var state = Pop();
                Build(Peek(), state);
                break;
            }

            // ---- persistent ids (torch storages) ----------------------------------------------------------
            case (byte)'Q': // BINPERSID
                Push(PersistentLoad(Pop()));
                break;
            case (byte)'P': // PERSID
                Push(PersistentLoad(Utf8(_in.ReadLine(_limits.MaxLineBytes, "PERSID argument"), "PERSID")));
                break;

            // ---- refused ----------------------------------------------------------------------------------
            case 0x82 or 0x83 or 0x84:
                throw _in.Error("the pickle uses the copyreg extension registry (EXT1/2/4), which checkpoints never need");
            case 0x97 or 0x98:
                throw _in.Error("the pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER), which checkpoints never need");
            default:
                throw _in.Error($"unknown pickle opcode 0x{op:x2}; not a pickle or the file is corrupt");
        }
    }

    // ---- stack helpers -------------------------------------------------------------------------------------

    private int MarkBase() => _marks.Count > 0 ? _marks[^1] : 0;

    private void Push(object? value)
    {
        if (_stack.Count >= _limits.MaxStackItems) throw _in.Error($"more than {_limits.MaxStackItems} items on the pickle stack");
        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count <= MarkBase()) throw _in.Error("pop from an empty stack (or across a MARK)");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        if (_stack.Count <= MarkBase()) throw _in.Error("the stack is empty where an object was expected");
        return _stack[^1];
    }

    private object?[] PopN(int n)
    {
        if (_stack.Count - MarkBase() < n) throw _in.Error($"expected {n} items on the stack");
        var items = _stack.GetRange(_stack.Count - n, n).ToArray();
        _stack.RemoveRange(_stack.Count - n, n);
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw _in.Error("no MARK on the stack");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private PyList TargetList(string op) =>
        Peek() as PyList ?? throw _in.Error($"{op} on a {PyValue.TypeName(Peek())}, expected a list");

    private PyDict TargetDict(string op) =>
        Peek() as PyDict ?? throw _in.Error($"{op} on a {PyValue.TypeName(Peek())}, expected a dict");

    // ---- memo ----------------------------------------------------------------------------------------------

    private void MemoPut(long index)
    {
        if (index < 0) throw _in.Error($"negative memo index {index}");
        if (!_memo.ContainsKey(index) && _memo.Count >= _limits.MaxMemoEntries) throw _in.Error($"more than {_limits.MaxMemoEntries} memo entries");
        _memo[index] = Peek();
    }

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var v) ? v : throw _in.Error($"memo entry {index} is read before it is written");

    private long ParseIndexLine(string op)
    {
        string text = ReadAsciiLine(op, 32);
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long i)
            ? i : throw _in.Error($"{op} argument '{Clip(text)}' is not a memo index");
    }

    // ---- scalars ---------------------------------------------------------------------------------------------

    private string ReadAsciiLine(string what, int max)
    {
        var line = _in.ReadLine(max, what + " argument");
        return Utf8(line, what);
    }

    private string Utf8(byte[] bytes, string op) =>
        PickleText.TryUtf8(bytes) ?? throw _in.Error($"{op} holds bytes that are not valid UTF-8");

    private long Length64(ulong length, string op) =>
        length > (ulong)long.MaxValue ? throw _in.Error($"{op} length {length} is impossibly large") : (long)length;

    private object ReadLong(long byteCount)
    {
        if (byteCount < 0) throw _in.Error($"negative LONG length {byteCount}");
        if (byteCount > _limits.MaxIntegerBytes) throw _in.Error($"integer of {byteCount} bytes exceeds the limit of {_limits.MaxIntegerBytes}");
        var bytes = _in.ReadBytes(byteCount, "LONG");
        return PickleText.Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));
    }

    private static string Clip(string s) => s.Length > 40 ? s[..40] + "..." : s;

    // ---- globals and calls -----------------------------------------------------------------------------------

    private PyGlobal ResolveGlobal(string module, string name)
    {
        if (AllowList.Resolve(module, name) is { } g) return g;
        if (_inertClasses is not null && _inertClasses.Contains(module + "." + name)) return new PyGlobal(module, name, GlobalKind.Inert);
        throw _in.Error(AllowList.Refusal(module, name));
    }

    private object? PersistentLoad(object? pid)
    {
        try
        {
            return _persistentLoad(pid);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(_in.FileName + ":", StringComparison.Ordinal))
        {
            throw _in.Error(e.Message);
        }
    }

    private object? Reduce(object? callable, PyTuple args)
    {
        if (callable is not PyGlobal g) throw _in.Error($"REDUCE calls a {PyValue.TypeName(callable)}, which is not callable");
        switch (g.Kind)
        {
            case GlobalKind.OrderedDict or GlobalKind.Dict:
            {
                var dict = new PyDict(ordered: g.Kind == GlobalKind.OrderedDict);
                if (args.Count > 1) throw _in.Error($"{g} takes at most one argument, got {args.Count}");
                if (args.Count == 1) FillDict(dict, args[0], g);
                return dict;
            }
            case GlobalKind.Namespace:
                if (args.Count != 0) throw _in.Error($"{g} called with {args.Count} positional arguments");
                return new PyNamespace();
            case GlobalKind.Inert:
                if (args.Count != 0) throw _in.Error($"{g} is inert and cannot take constructor arguments ({args.Count} given)");
                return new PyObject(g.FullName);
            case GlobalKind.Set or GlobalKind.FrozenSet:
            {
                var set = new PySet(frozen: g.Kind == GlobalKind.FrozenSet);
                if (args.Count > 1) throw _in.Error($"{g} takes at most one argument, got {args.Count}");
                if (args.Count == 1)
                    foreach (var item in Iterate(args[0], g)) set.Add(item);
                return set;
            }
            case GlobalKind.Bytes or GlobalKind.ByteArray:
                return MakeBytes(args, g);
            case GlobalKind.CodecsEncode:
                if (args.Count is < 1 or > 2 || args[0] is not string text) throw _in.Error($"{g} expects (str, encoding)");
                return Encode(text, args.Count == 2 ? args[1] as string ?? "" : "utf-8", g);
            case GlobalKind.Reconstructor:
            {
                if (args.Count != 3 || args[0] is not PyGlobal cls || args[1] is not PyGlobal { Kind: GlobalKind.Object or GlobalKind.Dict })
                    throw _in.Error($"{g} expects (class, object, state)");
                return NewObject(cls, PyTuple.Empty, null);
            }
            case GlobalKind.RebuildTensor:
                if (args.Count != 4) throw _in.Error($"{g} expects 4 arguments, got {args.Count}");
                return RebuildTensor(args[0], args[1], args[2], args[3], requiresGrad: false, g);
            case GlobalKind.RebuildTensorV2:
                if (args.Count is not (6 or 7)) throw _in.Error($"{g} expects 6 or 7 arguments, got {args.Count}");
                return RebuildTensor(args[0], args[1], args[2], args[3], Truthy(args[4]), g);
            case GlobalKind.RebuildParameter or GlobalKind.RebuildParameterWithState:
            {
                int expected = g.Kind == GlobalKind.RebuildParameter ? 3 : 4;
                if (args.Count != expected || args[0] is not TorchTensor data) throw _in.Error($"{g} expects (tensor, requires_grad, hooks{(expected == 4 ? ", state" : "")})");
                data.IsParameter = true;
                data.RequiresGrad = Truthy(args[1]);
                return data;
            }
            case GlobalKind.RebuildFromTypeV2:
            {
                if (args.Count != 4 || args[2] is not PyTuple inner || args[1] is not PyGlobal { Kind: GlobalKind.TensorClass or GlobalKind.ParameterClass } type)
                    throw _in.Error($"{g} expects (function, torch.Tensor or Parameter, args, state)");
                var result = Reduce(args[0], inner);
                if (result is not TorchTensor t) throw _in.Error($"{g} did not rebuild a tensor");
                if (type.Kind == GlobalKind.ParameterClass) t.IsParameter = true;
                return t;
            }
            case GlobalKind.NumpyDType:
                if (args.Count < 1 || args[0] is not string code) throw _in.Error($"{g} expects a type string");
                return new NumpyDType(code);
            case GlobalKind.NumpyScalar:
                return NumpyScalar(args, g);
            default:
                throw _in.Error($"calling {g} is not supported");
        }
    }

    private object NewObject(object? cls, PyTuple args, object? kwargs)
    {
        if (cls is not PyGlobal g) throw _in.Error($"cannot instantiate a {PyValue.TypeName(cls)}");
        if (kwargs is not null && kwargs is not PyDict { Count: 0 }) throw _in.Error($"keyword arguments for {g} are not supported");
        switch (g.Kind)
        {
            case GlobalKind.Namespace: return new PyNamespace();
            case GlobalKind.Inert: return new PyObject(g.FullName);
            case GlobalKind.OrderedDict or GlobalKind.Dict: return new PyDict(ordered: g.Kind == GlobalKind.OrderedDict);
            case GlobalKind.Set or GlobalKind.FrozenSet:
            {
                var set = new PySet(frozen: g.Kind == GlobalKind.FrozenSet);
                if (args.Count == 1)
                    foreach (var item in Iterate(args[0], g)) set.Add(item);
                return set;
            }
            default: throw _in.Error($"instantiating {g} is not supported");
        }
    }

    private void Build(object? target, object? state)
    {
        switch (target)
        {
            case PyNamespace ns:
                foreach (var (name, value) in StateEntries(state, "argparse.Namespace")) ns.Set(name, value);
                break;
            case PyObject obj:
                foreach (var (name, value) in StateEntries(state, obj.ClassName)) obj.Set(name, value);
                break;
            case PyDict dict:
                foreach (var (name, value) in StateEntries(state, PyValue.TypeName(dict))) dict.SetAttribute(name, value);
                break;
            case TorchTensor:
                // torch >= 1.x may attach Python attributes to tensors/parameters; they carry nothing we use.
                break;
            case NumpyDType dtype:
                if (state is PyTuple { Count: >= 2 } t && t[1] is string order && order.Length == 1) dtype.ByteOrder = order[0];
                else throw _in.Error("numpy.dtype state is not (version, byteorder, ...)");
                break;
            default:
                throw _in.Error($"BUILD on a {PyValue.TypeName(target)} is not supported");
        }
    }

    private IEnumerable<(string Name, object? Value)> StateEntries(object? state, string owner)
    {
        // state is a dict of attributes, or (dict, slots-dict) with either part None.
        var parts = state is PyTuple { Count: 2 } pair ? new[] { pair[0], pair[1] } : new[] { state };
        var result = new List<(string, object?)>();
        foreach (var part in parts)
        {
            if (part is null) continue;
            if (part is not PyDict d) throw _in.Error($"BUILD state for {owner} is a {PyValue.TypeName(part)}, expected a dict");
            foreach (var (k, v) in d)
            {
                if (k is not string name) throw _in.Error($"attribute name {PyValue.Describe(k)} of {owner} is not a string");
                result.Add((name, v));
            }
        }
        return result;
    }

    private void FillDict(PyDict dict, object? source, PyGlobal g)
    {
        if (source is PyDict other)
        {
            foreach (var (k, v) in other) dict.Set(k, v);
            return;
        }
        foreach (var item in Iterate(source, g))
        {
            if (item is not IReadOnlyList<object?> { Count: 2 } pair || item is not (PyList or PyTuple))
                throw _in.Error($"{g} item is a {PyValue.TypeName(item)}, expected a [key, value] pair");
            dict.Set(pair[0], pair[1]);
        }
    }

    private IEnumerable<object?> Iterate(object? source, PyGlobal g) => source switch
    {
        PyList l => l.ToArray(),
        PyTuple t => t,
        PySet s => s.ToArray(),
        PyDict d => d.Keys.ToArray(),
        _ => throw _in.Error($"{g} argument is a {PyValue.TypeName(source)}, expected an iterable"),
    };

    private byte[] MakeBytes(PyTuple args, PyGlobal g)
    {
        if (args.Count == 0) return Array.Empty<byte>();
        if (args.Count == 2 && args[0] is string text && args[1] is string encoding) return Encode(text, encoding, g);
        if (args.Count != 1) throw _in.Error($"{g} expects one argument, got {args.Count}");
        switch (args[0])
        {
            case byte[] b: return (byte[])b.Clone();
            case PyList or PyTuple:
            {
                var items = (IReadOnlyList<object?>)args[0]!;
                var result = new byte[items.Count];
                for (int i = 0; i < items.Count; i++)
                    result[i] = items[i] is long v and >= 0 and <= 255 ? (byte)v : throw _in.Error($"{g} item {i} is not a byte value");
                return result;
            }
            default: throw _in.Error($"{g} argument is a {PyValue.TypeName(args[0])}");
        }
    }

    private byte[] Encode(string text, string encoding, PyGlobal g)
    {
        switch (encoding.ToLowerInvariant().Replace('_', '-'))
        {
            case "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1":
                foreach (char c in text)
                    if (c > '\u00ff') throw _in.Error($"{g}: character U+{(int)c:X4} cannot be encoded as latin-1");
                return Encoding.Latin1.GetBytes(text);
            case "utf-8" or "utf8":
                return Encoding.UTF8.GetBytes(text);
            case "ascii":
                foreach (char c in text)
                    if (c > '\u007f') throw _in.Error($"{g}: character U+{(int)c:X4} cannot be encoded as ascii");
                return Encoding.ASCII.GetBytes(text);
            default:
                throw _in.Error($"{g}: encoding '{Clip(encoding)}' is not supported");
        }
    }

    private object NumpyScalar(PyTuple args, PyGlobal g)
    {
        if (args.Count != 2 || args[0] is not NumpyDType dtype) throw _in.Error($"{g} expects (dtype, data)");
        int size = dtype.Code.Length >= 2 && int.TryParse(dtype.Code.AsSpan(1), out int s) ? s : -1;
        char kind = dtype.Code.Length > 0 ? dtype.Code[0] : '?';
        byte[]? raw = args[1] switch
        {
            byte[] b => b,
            string str when size > 0 => PickleText.RecoverBytes(str, size),
            _ => null,
        };
        if (raw is null || size <= 0 || raw.Length != size) throw _in.Error($"{g}: data does not match {dtype}");
        if (dtype.ByteOrder == '>') Array.Reverse(raw);
        return (kind, size) switch
        {
            ('f', 8) => (object)BinaryPrimitives.ReadDoubleLittleEndian(raw),
            ('f', 4) => (object)(double)BinaryPrimitives.ReadSingleLittleEndian(raw),
            ('f', 2) => (object)(double)BinaryPrimitives.ReadHalfLittleEndian(raw),
            ('i', 8) => (object)BinaryPrimitives.ReadInt64LittleEndian(raw),
            ('i', 4) => (object)(long)BinaryPrimitives.ReadInt32LittleEndian(raw),
            ('i', 2) => (object)(long)BinaryPrimitives.ReadInt16LittleEndian(raw),
            ('i', 1) => (object)(long)(sbyte)raw[0],
            ('u', 8) => (object)PickleText.Normalize(BinaryPrimitives.ReadUInt64LittleEndian(raw)),
            ('u', 4) => (object)(long)BinaryPrimitives.ReadUInt32LittleEndian(raw),
            ('u', 2) => (object)(long)BinaryPrimitives.ReadUInt16LittleEndian(raw),
            ('u', 1) => (object)(long)raw[0],
            ('b', 1) => (object)(raw[0] != 0),
            _ => throw _in.Error($"{g}: numpy scalar type {dtype} is not supported"),
        };
    }

    private TorchTensor RebuildTensor(object? storage, object? offset, object? size, object? stride, bool requiresGrad, PyGlobal g)
    {
        if (storage is not TorchStorage s) throw _in.Error($"{g}: first argument is a {PyValue.TypeName(storage)}, expected a storage");
        if (offset is not long off) throw _in.Error($"{g}: storage offset is a {PyValue.TypeName(offset)}, expected an int");
        var sizes = IntTuple(size, "size", g);
        var strides = IntTuple(stride, "stride", g);
        if (sizes.Length != strides.Length) throw _in.Error($"{g}: size has {sizes.Length} dimensions, stride has {strides.Length}");
        var t = new TorchTensor(s, off, sizes, strides, requiresGrad);
        _tensors.Add(t);
        return t;
    }

    private long[] IntTuple(object? value, string what, PyGlobal g)
    {
        if (value is not (PyTuple or PyList)) throw _in.Error($"{g}: {what} is a {PyValue.TypeName(value)}, expected a tuple of ints");
        var items = (IReadOnlyList<object?>)value;
        if (items.Count > 64) throw _in.Error($"{g}: {what} has {items.Count} dimensions");
        var result = new long[items.Count];
        for (int i = 0; i < items.Count; i++)
            result[i] = items[i] is long v ? v : throw _in.Error($"{g}: {what}[{i}] is a {PyValue.TypeName(items[i])}, expected an int");
        return result;
    }

    private static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        _ => true,
    };
}
