# ruff: noqa
# fmt: off
# Document 001's own pool tests (/work/shared/seeds/001_*.txt), as written there;
# only the import of the pool is changed to memwatch's. The `benchmark` fixture
# comes from tests/seed001/conftest.py.
# tests/test_object_pool_efficiency.py
import pytest
import time
import tracemalloc
from typing import List, Dict, Any
import psutil
import gc

from memwatch.blocks.pool import ObjectPool, PoolableObject


class TestConnection(PoolableObject):
    """Mock connection object for testing"""
    def __init__(self):
        self.data = bytearray(1024 * 10)  # 10KB per object
        self.active = True
        self.reset_count = 0
    
    def reset(self):
        """Reset connection state"""
        self.data = bytearray(1024 * 10)
        self.active = True
        self.reset_count += 1
    
    def close(self):
        """Cleanup connection"""
        self.active = False
        self.data = None


class TestObjectPoolEfficiency:
    """Test suite for object pool efficiency"""
    
    @pytest.fixture
    def pool(self):
        """Create a test pool"""
        return ObjectPool(
            factory=TestConnection,
            min_size=5,
            max_size=20,
            ttl=60
        )
    
    def test_allocation_performance(self, pool, benchmark):
        """Benchmark pool allocation vs direct instantiation"""
        
        def allocate_from_pool():
            obj = pool.acquire()
            pool.release(obj)
        
        def allocate_direct():
            obj = TestConnection()
            obj.close()
        
        # Benchmark pool allocation
        pool_result = benchmark.pedantic(
            allocate_from_pool,
            rounds=1000,
            iterations=10
        )
        
        # Benchmark direct allocation
        direct_result = benchmark.pedantic(
            allocate_direct,
            rounds=1000,
            iterations=10
        )
        
        # Pool should be at least 50% faster after warmup
        assert pool_result.stats['mean'] < direct_result.stats['mean'] * 0.5
    
    def test_pool_hit_rate(self, pool):
        """Test pool hit rate under various loads"""
        hits = 0
        misses = 0
        
        # Warm up the pool
        objects = []
        for _ in range(pool.min_size):
            objects.append(pool.acquire())
        for obj in objects:
            pool.release(obj)
        
        # Track hits and misses
        initial_created = pool.stats['objects_created']
        
        # High reuse scenario
        for _ in range(100):
            obj = pool.acquire()
            pool.release(obj)
        
        final_created = pool.stats['objects_created']
        new_objects = final_created - initial_created
        
        hit_rate = (100 - new_objects) / 100
        assert hit_rate > 0.95  # 95% hit rate expected
    
    def test_memory_efficiency(self, pool):
        """Test memory usage efficiency"""
        tracemalloc.start()
        
        # Baseline memory
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        
        # Allocate and release many objects
        for _ in range(1000):
            obj = pool.acquire()
            pool.release(obj)
        
        # Check memory after operations
        gc.collect()
        current = tracemalloc.get_traced_memory()[0]
        memory_growth = current - baseline
        
        # Memory growth should be minimal (< 1MB)
        assert memory_growth < 1024 * 1024
        
        tracemalloc.stop()
    
    def test_concurrent_access(self, pool):
        """Test pool efficiency under concurrent access"""
        import threading
        import queue
        
        results = queue.Queue()
        errors = queue.Queue()
        
        def worker():
            try:
                start = time.time()
                for _ in range(100):
                    obj = pool.acquire()
                    time.sleep(0.001)  # Simulate work
                    pool.release(obj)
                results.put(time.time() - start)
            except Exception as e:
                errors.put(e)
        
        # Run concurrent workers
        threads = []
        for _ in range(10):
            t = threading.Thread(target=worker)
            threads.append(t)
            t.start()
        
        for t in threads:
            t.join()
        
        # Check for errors
        assert errors.empty(), f"Errors occurred: {list(errors.queue)}"
        
        # Verify all workers completed
        assert results.qsize() == 10
        
        # Check performance consistency
        times = list(results.queue)
        avg_time = sum(times) / len(times)
        assert all(abs(t - avg_time) < avg_time * 0.2 for t in times)
